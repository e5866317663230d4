-- Residents' contributions: edit tokens, duplicate hints, photos, safe retries, rate limits.
-- Everything a request needs lives here, not in a worker's memory, so several workers
-- (or hosts, with PostGIS) can serve one database.

-- The name a contributor chose to have shown with their place (never their real name
-- unless they typed it here).
ALTER TABLE places ADD COLUMN display_name TEXT;

-- The hash of each place's private edit token; the token itself is never stored.
CREATE TABLE place_edit_tokens (
    place_id TEXT PRIMARY KEY REFERENCES places(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,  -- hex SHA-256 of the token
    created_at TEXT NOT NULL
);

-- Hints for moderators: "this may be the same place as that one".
CREATE TABLE place_flags (
    place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,            -- 'possible_duplicate'
    other_place_id TEXT,           -- the place it may duplicate
    detail TEXT NOT NULL,          -- a sentence for the moderator
    created_at TEXT NOT NULL,
    PRIMARY KEY (place_id, kind, other_place_id)
);
CREATE INDEX place_flags_kind ON place_flags (kind, created_at);

-- Photos: files on disk under the media directory, their description here, in order.
CREATE TABLE media (
    id TEXT PRIMARY KEY,
    place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,     -- 1, 2, 3... in the order they were added
    mime_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    path TEXT NOT NULL,            -- relative to the media directory
    thumb_path TEXT NOT NULL,
    thumb_width INTEGER NOT NULL,
    thumb_height INTEGER NOT NULL,
    sha256 TEXT NOT NULL,          -- of the stored (re-encoded) file
    caption TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (place_id, position)
);

-- Idempotency-Key: a retried request gets the first answer back. The key is stored
-- hashed and the answer encrypted with a key derived from it, so the table reveals
-- neither the client's key nor the edit token inside the answer.
CREATE TABLE idempotency_keys (
    key_hash TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,    -- SHA-256 of method, path and body
    status INTEGER NOT NULL,
    response BLOB NOT NULL,        -- encrypted response body
    created_at TEXT NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Fixed-window counters per client and action.
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,          -- e.g. 'submit:203.0.113.7'
    window_start INTEGER NOT NULL, -- Unix seconds, a multiple of the window length
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- Service-wide secrets (e.g. the key that signs form tokens), shared by every worker.
CREATE TABLE service_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    created_at TEXT NOT NULL
);
