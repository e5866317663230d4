-- Each place's GeoJSON feature head (geodata.features.head), encoded when the place is
-- written: an open-data download copies these bytes instead of building every feature
-- again (1M places: 1 s of reading against 4 s for the 21 columns they come from).
-- NULL for places the public does not see where they are (generalised, hidden), whose
-- features the export builds from public_view, and for rows written before this column
-- (filled in by SQLiteStore.migrate).
ALTER TABLE places ADD COLUMN public_feature BLOB;
-- A writer that changes a place but not its head (a worker of an older version during a
-- rolling upgrade, say) leaves the head out of date: drop it, and downloads build the
-- feature from the row. Every edit bumps version and updated_at, and they are in the head.
CREATE TRIGGER places_stale_head AFTER UPDATE OF version, updated_at ON places
WHEN new.public_feature IS NOT NULL AND new.public_feature IS old.public_feature
    AND (new.version IS NOT old.version OR new.updated_at IS NOT old.updated_at)
BEGIN
    UPDATE places SET public_feature = NULL WHERE rid = new.rid;
END;

-- A download's ETag and Last-Modified, without reading every place: a counter and a time
-- bumped by every update or deletion of a place and every change to protocol labels.
-- Inserts need no trigger (a bulk import would pay one per row): they raise max(rid).
ALTER TABLE store_versions ADD COLUMN changed_at TEXT;
INSERT INTO store_versions (name, version, changed_at)
VALUES ('places', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TRIGGER places_version_update AFTER UPDATE ON places BEGIN
    UPDATE store_versions SET version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE name = 'places';
END;
CREATE TRIGGER places_version_delete AFTER DELETE ON places BEGIN
    UPDATE store_versions SET version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE name = 'places';
END;
CREATE TRIGGER protocol_labels_version_insert AFTER INSERT ON place_protocol_labels BEGIN
    UPDATE store_versions SET version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE name = 'places';
END;
CREATE TRIGGER protocol_labels_version_update AFTER UPDATE ON place_protocol_labels BEGIN
    UPDATE store_versions SET version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE name = 'places';
END;
CREATE TRIGGER protocol_labels_version_delete AFTER DELETE ON place_protocol_labels BEGIN
    UPDATE store_versions SET version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE name = 'places';
END;
