-- Search in every script (geodata/search.py): each place's title and narratives folded
-- (lower case, no accents, no punctuation, characters of unspaced scripts set apart),
-- written by the store with the place, and an FTS5 trigram index over them that finds
-- any stretch of three or more characters. NULL for rows written before these columns
-- (filled in by SQLiteStore.migrate).
ALTER TABLE places ADD COLUMN search_title TEXT;
ALTER TABLE places ADD COLUMN search_body TEXT;

-- The index keeps no copy of the text (content='places'); case_sensitive 1 because the
-- text is folded already, so a match is exactly a substring, as with PostGIS's LIKE.
CREATE VIRTUAL TABLE places_search USING fts5(
    search_title, search_body,
    content='places', content_rowid='rid',
    tokenize='trigram case_sensitive 1'
);

-- Kept in step with places by triggers, for every writer. Rows without search text
-- (written by an older version) are left out; an external-content index must be told
-- exactly what it holds when a row leaves it.
CREATE TRIGGER places_search_insert AFTER INSERT ON places
WHEN new.search_title IS NOT NULL
BEGIN
    INSERT INTO places_search (rowid, search_title, search_body)
    VALUES (new.rid, new.search_title, new.search_body);
END;
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
