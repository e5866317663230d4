-- The PostGIS twin of sqlite/0009_feature_languages.sql: feature heads gained the
-- "languages" property; drop the stored ones, and PostGISStore.migrate encodes them again.
UPDATE places SET public_feature = NULL WHERE public_feature IS NOT NULL;
