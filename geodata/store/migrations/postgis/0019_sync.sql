-- The PostGIS twin of sqlite/0019_sync.sql: what venue laptops pushed (by submission id),
-- the conflicts kept for a moderator, and a venue laptop's own ledger of what it pushed.
CREATE TABLE IF NOT EXISTS sync_receipts (
    submission_id text PRIMARY KEY,
    kit_id text NOT NULL,
    kind text NOT NULL,
    record_id text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('stored', 'conflict')),
    made_here boolean NOT NULL DEFAULT false,
    account_id text,
    received_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_receipts_kit ON sync_receipts (kit_id, received_at);
CREATE INDEX IF NOT EXISTS sync_receipts_record ON sync_receipts (record_id);

CREATE TABLE IF NOT EXISTS sync_conflicts (
    id text PRIMARY KEY,
    submission_id text NOT NULL UNIQUE,
    kit_id text NOT NULL,
    kind text NOT NULL,
    record_id text NOT NULL,
    place_id text,
    reason text NOT NULL,
    detail text,
    venue jsonb NOT NULL,
    contributor_contact text,
    status text NOT NULL CHECK (status IN ('open', 'resolved')),
    resolution text,
    resolved_by text,
    created_at timestamptz NOT NULL,
    resolved_at timestamptz
);
CREATE INDEX IF NOT EXISTS sync_conflicts_status ON sync_conflicts (status, created_at);
CREATE INDEX IF NOT EXISTS sync_conflicts_contact
    ON sync_conflicts (lower(trim(contributor_contact))) WHERE contributor_contact IS NOT NULL;

CREATE TABLE IF NOT EXISTS sync_ledger (
    kind text NOT NULL,
    record_id text NOT NULL,
    origin text NOT NULL CHECK (origin IN ('kit', 'venue')),
    revision text NOT NULL,
    base jsonb,
    outcome text NOT NULL,
    detail text,
    pushed_at timestamptz,
    PRIMARY KEY (kind, record_id)
);
