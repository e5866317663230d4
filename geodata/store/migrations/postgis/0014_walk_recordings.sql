-- The PostGIS twin of sqlite/0014_walk_recordings.sql: a recording with a walk_id was
-- made for that walk's stop at place_id, not for the place itself.
ALTER TABLE recordings ADD COLUMN IF NOT EXISTS walk_id text REFERENCES walks (id) ON DELETE CASCADE;
CREATE INDEX IF NOT EXISTS recordings_walk ON recordings (walk_id, place_id, position)
    WHERE walk_id IS NOT NULL;
