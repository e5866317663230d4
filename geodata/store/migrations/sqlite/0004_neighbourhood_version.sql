-- A counter bumped by every change to the neighbourhoods, so a worker can tell in one
-- cheap query whether what it derived from them (the project area, a spatial index)
-- is still current, without reading every polygon on every request.
CREATE TABLE store_versions (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO store_versions (name, version) VALUES ('neighbourhoods', 1);

CREATE TRIGGER neighbourhoods_version_insert AFTER INSERT ON neighbourhoods BEGIN
    UPDATE store_versions SET version = version + 1 WHERE name = 'neighbourhoods';
END;
CREATE TRIGGER neighbourhoods_version_update AFTER UPDATE ON neighbourhoods BEGIN
    UPDATE store_versions SET version = version + 1 WHERE name = 'neighbourhoods';
END;
CREATE TRIGGER neighbourhoods_version_delete AFTER DELETE ON neighbourhoods BEGIN
    UPDATE store_versions SET version = version + 1 WHERE name = 'neighbourhoods';
END;
