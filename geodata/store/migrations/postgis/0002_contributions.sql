-- Residents' contributions: edit tokens, duplicate hints, photos, safe retries, rate limits.
-- The PostGIS twin of sqlite/0002_contributions.sql: everything a request needs lives
-- here, not in a worker's memory, so several workers or hosts can serve one database.

-- The name a contributor chose to have shown with their place.
ALTER TABLE places ADD COLUMN display_name text;

-- The hash of each place's private edit token; the token itself is never stored.
CREATE TABLE place_edit_tokens (
    place_id text PRIMARY KEY REFERENCES places (id) ON DELETE CASCADE,
    token_hash text NOT NULL,  -- hex SHA-256 of the token
    created_at timestamptz NOT NULL
);

-- Hints for moderators: "this may be the same place as that one".
CREATE TABLE place_flags (
    seq bigint GENERATED ALWAYS AS IDENTITY,  -- insertion order, as SQLite's rowid
    place_id text NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    kind text NOT NULL,        -- 'possible_duplicate'
    other_place_id text,       -- the place it may duplicate
    detail text NOT NULL,      -- a sentence for the moderator
    created_at timestamptz NOT NULL,
    -- SQLite's primary key allows a NULL other place; NULLS NOT DISTINCT keeps it unique.
    UNIQUE NULLS NOT DISTINCT (place_id, kind, other_place_id)
);
CREATE INDEX place_flags_kind ON place_flags (kind, created_at);

-- Photos: files on disk under the media directory, their description here, in order.
CREATE TABLE media (
    id text PRIMARY KEY,
    place_id text NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    position integer NOT NULL,  -- 1, 2, 3... in the order they were added
    mime_type text NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    bytes integer NOT NULL,
    path text NOT NULL,         -- relative to the media directory
    thumb_path text NOT NULL,
    thumb_width integer NOT NULL,
    thumb_height integer NOT NULL,
    sha256 text NOT NULL,       -- of the stored (re-encoded) file
    caption text,
    created_at timestamptz NOT NULL,
    UNIQUE (place_id, position)
);

-- Idempotency-Key: a retried request gets the first answer back (key hashed, answer
-- encrypted by the web layer).
CREATE TABLE idempotency_keys (
    key_hash text PRIMARY KEY,
    request_hash text NOT NULL,  -- SHA-256 of method, path and body
    status integer NOT NULL,
    response bytea NOT NULL,     -- encrypted response body
    created_at timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Fixed-window counters per client and action.
CREATE TABLE rate_limits (
    bucket text NOT NULL,           -- e.g. 'submit:203.0.113.7'
    window_start bigint NOT NULL,   -- Unix seconds, a multiple of the window length
    hits integer NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- Service-wide secrets (e.g. the key that signs form tokens), shared by every worker.
CREATE TABLE service_secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL,
    created_at timestamptz NOT NULL
);
