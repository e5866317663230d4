-- Staff accounts and their credentials, the audit trail, moderation notes and
-- cultural-protocol labels; the PostGIS twin of sqlite/0003_accounts_audit.sql.
-- Residents need no account: their edit token is enough.

-- citext compares names without regard to case, as SQLite's COLLATE NOCASE does.
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;

-- Facilitators, planners and admins.
CREATE TABLE accounts (
    id text PRIMARY KEY,                 -- 'ac_...', stable and opaque
    name citext NOT NULL UNIQUE,
    role text NOT NULL CHECK (role IN ('facilitator', 'planner', 'admin')),
    password_hash text,                  -- argon2id; NULL: signs in with API tokens only
    created_at timestamptz NOT NULL,
    disabled_at timestamptz              -- set: every credential stops working
);

-- API tokens and browser sessions. A credential is '<id>.<secret>': the id is not secret
-- and finds the row at once; only an argon2id hash of the secret is kept.
CREATE TABLE credentials (
    seq bigint GENERATED ALWAYS AS IDENTITY,  -- insertion order, as SQLite's rowid
    id text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('token', 'session')),
    secret_hash text NOT NULL,
    label text,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,              -- NULL: until revoked
    revoked_at timestamptz
);
CREATE INDEX credentials_account ON credentials (account_id, kind);

-- Who changed what, when: every create, edit, publish, reject, withdraw and erase,
-- with the place's content before and after. Personal data (contributor name, contact,
-- display name) is never copied here, only the fact that it changed.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- never reused: the order of events
    at timestamptz NOT NULL,
    action text NOT NULL,
    actor_id text,                       -- the account; NULL for residents and the CLI
    actor text NOT NULL,                 -- in words: 'resident (edit link)', 'ana (facilitator)'
    place_id text,                       -- no foreign key: the trail outlives the place
    version integer,                     -- the place's version after the change
    before text,                         -- JSON snapshot (kept verbatim), NULL for a creation
    after text,                          -- JSON snapshot, NULL for an erasure
    detail text                          -- a reason, or what an erasure removed
);
CREATE INDEX audit_log_place ON audit_log (place_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- Local Contexts Traditional Knowledge (TK) and Biocultural (BC) labels a facilitator
-- attached to a place, in order: travel with it on maps and in downloads.
CREATE TABLE place_protocol_labels (
    place_id text NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    position integer NOT NULL,
    label_id text NOT NULL,              -- e.g. 'tk_a' (TK Attribution), 'bc_p'
    name text NOT NULL,                  -- e.g. 'TK Attribution (TK A)'
    text text NOT NULL,                  -- the community's own wording
    url text,                            -- the label on the Local Contexts Hub, if any
    PRIMARY KEY (place_id, label_id)
);
