-- Staff accounts and their credentials, the audit trail, moderation notes and
-- cultural-protocol labels. Residents need no account: their edit token is enough.

-- Facilitators, planners and admins.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,                 -- 'ac_...', stable and opaque
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('facilitator', 'planner', 'admin')),
    password_hash TEXT,                  -- argon2id; NULL: signs in with API tokens only
    created_at TEXT NOT NULL,
    disabled_at TEXT                     -- set: every credential stops working
);

-- API tokens and browser sessions. A credential is '<id>.<secret>': the id is not secret
-- and finds the row at once; only an argon2id hash of the secret is kept.
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('token', 'session')),
    secret_hash TEXT NOT NULL,
    label TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT,                     -- NULL: until revoked
    revoked_at TEXT
);
CREATE INDEX credentials_account ON credentials (account_id, kind);

-- Who changed what, when: every create, edit, publish, reject, withdraw and erase,
-- with the place's content before and after. Personal data (contributor name, contact,
-- display name) is never copied here, only the fact that it changed.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the order events happened in
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT,                         -- the account; NULL for residents and the CLI
    actor TEXT NOT NULL,                   -- in words: 'resident (edit link)', 'ana (facilitator)'
    place_id TEXT,                         -- no foreign key: the trail outlives the place
    version INTEGER,                       -- the place's version after the change
    before TEXT,                           -- JSON snapshot, NULL for a creation
    after TEXT,                            -- JSON snapshot, NULL for an erasure
    detail TEXT                            -- a reason, or what an erasure removed
);
CREATE INDEX audit_log_place ON audit_log (place_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- Local Contexts Traditional Knowledge (TK) and Biocultural (BC) labels a facilitator
-- attached to a place, in order: travel with it on maps and in downloads.
CREATE TABLE place_protocol_labels (
    place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label_id TEXT NOT NULL,              -- e.g. 'tk_a' (TK Attribution), 'bc_p'
    name TEXT NOT NULL,                  -- e.g. 'TK Attribution'
    text TEXT NOT NULL,                  -- the community's own wording
    url TEXT,                            -- the label on the Local Contexts Hub, if any
    PRIMARY KEY (place_id, label_id)
);
