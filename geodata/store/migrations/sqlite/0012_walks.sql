-- Walks (issue 19): an ordered list of public places with a title, an introduction and a
-- chapter per stop, in languages, and an optional route line. Their lifecycle is a
-- place's (pending / published / rejected / withdrawn); audit events name a walk by its
-- id ('wk_...') in audit_log.place_id, which has no foreign key for that reason.
CREATE TABLE walks (
    id TEXT PRIMARY KEY,                 -- 'wk_...', stable and opaque
    status TEXT NOT NULL CHECK (status IN ('pending', 'published', 'rejected', 'withdrawn')),
    content TEXT NOT NULL,               -- JSON: titles, introductions, editorial, licence, consent
    route BLOB,                          -- WKB LineString, EPSG:4326; NULL: drawn stop to stop
    contributor_name TEXT,               -- personal data: never exported or shown publicly
    contributor_contact TEXT,
    display_name TEXT,
    edit_token_hash TEXT,                -- the proposer's private edit link
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX walks_status ON walks (status, created_at);
CREATE INDEX walks_contact ON walks (lower(trim(contributor_contact)));

-- The stops in order. Erasing a place removes it from every walk (the cascade).
CREATE TABLE walk_stops (
    walk_id TEXT NOT NULL REFERENCES walks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,           -- 1, 2, 3... in walking order
    place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    chapters TEXT NOT NULL,              -- JSON list of narratives (text, language, provenance...)
    PRIMARY KEY (walk_id, position),
    UNIQUE (walk_id, place_id)
);
CREATE INDEX walk_stops_place ON walk_stops (place_id);
