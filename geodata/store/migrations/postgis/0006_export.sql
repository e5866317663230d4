-- The PostGIS twin of sqlite/0006_export.sql.
-- Each place's GeoJSON feature head (geodata.features.head), encoded when the place is
-- written, so an open-data download copies bytes instead of building every feature
-- again. NULL for generalised and hidden places (their features come from public_view at
-- export time) and for rows written before this column (filled in by migrate).
ALTER TABLE places ADD COLUMN IF NOT EXISTS public_feature bytea;

-- A download's ETag and Last-Modified without reading every place: a fresh value and
-- the time of every statement that changes places or protocol labels.
ALTER TABLE store_versions ADD COLUMN IF NOT EXISTS changed_at timestamptz;
INSERT INTO store_versions (name, version, changed_at)
VALUES ('places', gen_random_uuid()::text, clock_timestamp());

CREATE FUNCTION bump_places_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO store_versions (name, version, changed_at)
    VALUES ('places', gen_random_uuid()::text, clock_timestamp())
    ON CONFLICT (name) DO UPDATE SET version = excluded.version,
        changed_at = excluded.changed_at;
    RETURN NULL;
END
$$;

CREATE TRIGGER places_version_change
    AFTER INSERT OR UPDATE OR DELETE ON places
    FOR EACH STATEMENT EXECUTE FUNCTION bump_places_version();
CREATE TRIGGER places_version_truncate
    AFTER TRUNCATE ON places
    FOR EACH STATEMENT EXECUTE FUNCTION bump_places_version();
CREATE TRIGGER protocol_labels_version_change
    AFTER INSERT OR UPDATE OR DELETE ON place_protocol_labels
    FOR EACH STATEMENT EXECUTE FUNCTION bump_places_version();
CREATE TRIGGER protocol_labels_version_truncate
    AFTER TRUNCATE ON place_protocol_labels
    FOR EACH STATEMENT EXECUTE FUNCTION bump_places_version();
