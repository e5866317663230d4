-- Feature heads gained the "languages" property (the languages of the place's narratives,
-- each once), so that every download and the OGC API carry the same fields. The heads
-- stored so far lack it: drop them, and SQLiteStore.migrate encodes them again.
UPDATE places SET public_feature = NULL WHERE public_feature IS NOT NULL;
