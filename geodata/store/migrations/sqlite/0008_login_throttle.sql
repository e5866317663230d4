-- Failed sign-ins per account name, for the growing lock of geodata/login_throttle.py.
-- Keyed by a SHA-256 of the name as typed (case-folded), whether or not such an account
-- exists: a lock says nothing about which names are real, and a password typed into
-- the name field by mistake is not kept in clear.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,      -- failed attempts in a row
    locked_until TEXT,              -- ISO 8601 UTC; NULL or past: not locked
    last_attempt TEXT NOT NULL      -- ISO 8601 UTC
);
CREATE INDEX login_throttle_last_attempt ON login_throttle (last_attempt);
