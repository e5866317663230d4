-- The PostGIS twin of sqlite/0006_export.sql.
-- Each place's GeoJSON feature head (geodata.features.head), encoded when the place is
-- written, so an open-data download copies bytes instead of building every feature
-- again. NULL for generalised and hidden places (their features come from public_view at
-- export time) and for rows written before this column (filled in by migrate).
ALTER TABLE places ADD COLUMN IF NOT EXISTS public_feature bytea;
-- A writer that changes a place but not its head (a worker of an older version during a
-- rolling upgrade, say) leaves the head out of date: drop it, and downloads build the
-- feature from the row. Every edit bumps version and updated_at, and they are in the head.
CREATE FUNCTION drop_stale_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.public_feature IS NOT DISTINCT FROM OLD.public_feature
       AND (NEW.version IS DISTINCT FROM OLD.version
            OR NEW.updated_at IS DISTINCT FROM OLD.updated_at) THEN
        NEW.public_feature := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER places_stale_head BEFORE UPDATE ON places
    FOR EACH ROW EXECUTE FUNCTION drop_stale_head();

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
