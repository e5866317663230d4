-- Search in every script (geodata/search.py): each place's title and narratives folded
-- (lower case, no accents, no punctuation, characters of unspaced scripts set apart),
-- written by the store with the place, and an FTS5 trigram index over them that finds
-- any stretch of three or more characters. NULL for rows written before these columns
-- (filled in by SQLiteStore.migrate).
ALTER TABLE places ADD COLUMN search_title TEXT;
ALTER TABLE places ADD COLUMN search_body TEXT;

-- The index keeps no copy of the text (content='places') and no lengths (columnsize=0:
-- they serve only bm25 ranking, which search does not use; a bulk import of 100,000 places
-- indexes some 25 % faster without); case_sensitive 1 because the
-- text is folded already, so a match is exactly a substring, as with PostGIS's LIKE.
CREATE VIRTUAL TABLE places_search USING fts5(
    search_title, search_body,
    content='places', content_rowid='rid', columnsize=0,
    tokenize='trigram case_sensitive 1'
);

-- Titles starting with a query, in order (geodata/search.py ranks them first).
CREATE INDEX places_search_title ON places (search_title);

-- New rows are put in the index by the store, after each INSERT (sqlite_bulk.SEARCH_NEW):
-- one INSERT ... SELECT per batch of a bulk import costs a fifth of what a trigger per row
-- does (100,000 places: 0.1 s against 0.45 s of CPU). Changes and deletions follow by
-- triggers, whoever makes them. Rows without search text (written by an older version)
-- are never in the index; an external-content index must be told exactly what it holds
-- when a row leaves it.
CREATE TRIGGER places_search_delete AFTER DELETE ON places
WHEN old.search_title IS NOT NULL
BEGIN
    INSERT INTO places_search (places_search, rowid, search_title, search_body)
    VALUES ('delete', old.rid, old.search_title, old.search_body);
END;
-- One trigger, so that the old entry always leaves before the new one comes.
CREATE TRIGGER places_search_update AFTER UPDATE OF search_title, search_body ON places
BEGIN
    INSERT INTO places_search (places_search, rowid, search_title, search_body)
    SELECT 'delete', old.rid, old.search_title, old.search_body
    WHERE old.search_title IS NOT NULL;
    INSERT INTO places_search (rowid, search_title, search_body)
    SELECT new.rid, new.search_title, new.search_body
    WHERE new.search_title IS NOT NULL;
END;
