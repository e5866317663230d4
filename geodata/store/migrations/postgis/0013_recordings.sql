-- The PostGIS twin of sqlite/0013_recordings.sql: recordings of places, each with its
-- own consent scope, and the folded transcripts of a place's public recordings beside
-- its folded narratives, with a trigram index of their own.
CREATE TABLE IF NOT EXISTS recordings (
    id text PRIMARY KEY,
    place_id text NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    position integer NOT NULL,
    mime_type text NOT NULL,
    duration_s double precision NOT NULL,
    bytes bigint NOT NULL,
    path text NOT NULL,
    sha256 text NOT NULL,
    scope text NOT NULL CHECK (scope IN ('public', 'workshop', 'archive')),
    title text,
    transcript text,
    transcript_language text,
    created_at timestamptz NOT NULL,
    UNIQUE (place_id, position)
);
ALTER TABLE places ADD COLUMN IF NOT EXISTS search_voices text;
CREATE INDEX IF NOT EXISTS places_search_voices ON places
    USING gin (search_voices public.gin_trgm_ops) WHERE search_voices <> '';
