-- A value that changes with every change to the neighbourhoods; the PostGIS twin of
-- sqlite/0004_neighbourhood_version.sql. A worker compares it (one cheap query) to tell
-- whether what it derived from them (the project area, a spatial index) is still current.
-- A fresh random value rather than a counter: it commits with the change itself, and a
-- TRUNCATE (which may empty this table too) can never bring back a value seen before.
CREATE TABLE store_versions (
    name text PRIMARY KEY,
    version text NOT NULL
);
INSERT INTO store_versions (name, version) VALUES ('neighbourhoods', gen_random_uuid()::text);

CREATE FUNCTION bump_neighbourhoods_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO store_versions (name, version) VALUES ('neighbourhoods', gen_random_uuid()::text)
    ON CONFLICT (name) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END
$$;

CREATE TRIGGER neighbourhoods_version_change
    AFTER INSERT OR UPDATE OR DELETE ON neighbourhoods
    FOR EACH STATEMENT EXECUTE FUNCTION bump_neighbourhoods_version();
CREATE TRIGGER neighbourhoods_version_truncate
    AFTER TRUNCATE ON neighbourhoods
    FOR EACH STATEMENT EXECUTE FUNCTION bump_neighbourhoods_version();
