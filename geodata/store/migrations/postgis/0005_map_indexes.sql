-- The PostGIS twin of sqlite/0005_map_indexes.sql: maps ask separately for the few places
-- with a generalised location in a view (they are grouped by their generalised point,
-- not their true one); this index finds them without walking every published place.
CREATE INDEX IF NOT EXISTS places_sensitivity ON places (sensitivity, status);
