-- Workshop kits and sync back (issue 18). A venue laptop runs a workshop from a kit and
-- later pushes what was collected there to the central atlas.
--
-- On the central atlas: every change a venue pushed, by the submission id the venue gave
-- it (a UUID made from the kit, the record and its revision), so pushing twice, or again
-- after a crash, stores nothing twice.
CREATE TABLE IF NOT EXISTS sync_receipts (
    submission_id TEXT PRIMARY KEY,
    kit_id TEXT NOT NULL,
    kind TEXT NOT NULL,              -- place, narrative, photo, recording, deletion
    record_id TEXT NOT NULL,         -- the place, narrative, photo or recording concerned
    outcome TEXT NOT NULL CHECK (outcome IN ('stored', 'conflict')),
    made_here INTEGER NOT NULL DEFAULT 0,  -- 1: the change made the record on this atlas
    account_id TEXT,                 -- the facilitator whose token pushed it
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_receipts_kit ON sync_receipts (kit_id, received_at);
CREATE INDEX IF NOT EXISTS sync_receipts_record ON sync_receipts (record_id);

-- What a push could not apply: kept for a moderator to decide, never overwritten.
CREATE TABLE IF NOT EXISTS sync_conflicts (
    id TEXT PRIMARY KEY,             -- 'sc_...'
    submission_id TEXT NOT NULL UNIQUE,
    kit_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    place_id TEXT,                   -- the place it concerns, if any
    reason TEXT NOT NULL,            -- edited_centrally, erased_centrally, withdrawn_centrally, refused
    detail TEXT,                     -- a sentence for the moderator
    venue TEXT NOT NULL,             -- JSON: what the venue sent (its base and its state)
    contributor_contact TEXT,        -- personal data in it, so that erasure finds it
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    resolution TEXT,                 -- kept_central, took_venue
    resolved_by TEXT,
    created_at TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS sync_conflicts_status ON sync_conflicts (status, created_at);
CREATE INDEX IF NOT EXISTS sync_conflicts_contact ON sync_conflicts (lower(trim(contributor_contact)))
    WHERE contributor_contact IS NOT NULL;

-- On a venue laptop: what came in the kit and what was pushed since, record by record.
CREATE TABLE IF NOT EXISTS sync_ledger (
    kind TEXT NOT NULL,              -- place, narrative, photo, recording
    record_id TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('kit', 'venue')),
    revision TEXT NOT NULL,          -- the local revision last pushed (or brought by the kit)
    base TEXT,                       -- JSON: the shared fields as both sides last agreed
    outcome TEXT NOT NULL,           -- kit, stored, conflict, gone
    detail TEXT,
    pushed_at TEXT,
    PRIMARY KEY (kind, record_id)
);
