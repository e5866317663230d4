-- Recordings of places (geodata/voices.py): files under the media directory, stripped of
-- every tag; their description here, in order, each with its own consent scope.
CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,     -- 1, 2, 3... in the order they were added
    mime_type TEXT NOT NULL,
    duration_s REAL NOT NULL,
    bytes INTEGER NOT NULL,
    path TEXT NOT NULL,            -- relative to the media directory
    sha256 TEXT NOT NULL,          -- of the stored (stripped) file
    scope TEXT NOT NULL CHECK (scope IN ('public', 'workshop', 'archive')),
    title TEXT,
    transcript TEXT,
    transcript_language TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (place_id, position)
);

-- The transcripts of a place's public recordings, folded for search as its narratives
-- are (geodata/search.py), written by the store whenever a recording changes. The search
-- index gains a third column for them; an external-content FTS5 table cannot gain a
-- column, so it is made again, triggers and all, and refilled from the folded texts.
ALTER TABLE places ADD COLUMN search_voices TEXT;
DROP TRIGGER places_search_delete;
DROP TRIGGER places_search_update;
DROP TABLE places_search;
CREATE VIRTUAL TABLE places_search USING fts5(
    search_title, search_body, search_voices,
    content='places', content_rowid='rid', columnsize=0,
    tokenize='trigram case_sensitive 1'
);
INSERT INTO places_search (rowid, search_title, search_body)
SELECT rid, search_title, search_body FROM places WHERE search_title IS NOT NULL;
CREATE TRIGGER places_search_delete AFTER DELETE ON places
WHEN old.search_title IS NOT NULL
BEGIN
    INSERT INTO places_search (places_search, rowid, search_title, search_body, search_voices)
    VALUES ('delete', old.rid, old.search_title, old.search_body, old.search_voices);
END;
CREATE TRIGGER places_search_update AFTER UPDATE OF search_title, search_body, search_voices
ON places
BEGIN
    INSERT INTO places_search (places_search, rowid, search_title, search_body, search_voices)
    SELECT 'delete', old.rid, old.search_title, old.search_body, old.search_voices
    WHERE old.search_title IS NOT NULL;
    INSERT INTO places_search (rowid, search_title, search_body, search_voices)
    SELECT new.rid, new.search_title, new.search_body, new.search_voices
    WHERE new.search_title IS NOT NULL;
END;
