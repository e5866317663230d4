-- Walks (issue 19); the PostGIS twin of sqlite/0012_walks.sql. Audit events name a walk
-- by its id ('wk_...') in audit_log.place_id.
CREATE TABLE walks (
    id text PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('pending', 'published', 'rejected', 'withdrawn')),
    content jsonb NOT NULL,              -- titles, introductions, editorial, licence, consent
    route geometry(LineString, 4326),    -- NULL: drawn stop to stop
    contributor_name text,               -- personal data: never exported or shown publicly
    contributor_contact text,
    display_name text,
    edit_token_hash text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL
);
CREATE INDEX walks_status ON walks (status, created_at);
CREATE INDEX walks_contact ON walks (lower(btrim(contributor_contact)));

CREATE TABLE walk_stops (
    walk_id text NOT NULL REFERENCES walks(id) ON DELETE CASCADE,
    position integer NOT NULL,
    place_id text NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    chapters jsonb NOT NULL,
    PRIMARY KEY (walk_id, position),
    UNIQUE (walk_id, place_id)
);
CREATE INDEX walk_stops_place ON walk_stops (place_id);
