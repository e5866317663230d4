-- Failed sign-ins per account name, for the growing lock of geodata/login_throttle.py;
-- the PostGIS twin of sqlite/0008_login_throttle.sql. Keyed by a SHA-256 of the name as
-- typed (case-folded), whether or not such an account exists.
CREATE TABLE login_throttle (
    key text PRIMARY KEY,
    failures integer NOT NULL,      -- failed attempts in a row
    locked_until timestamptz,       -- NULL or past: not locked
    last_attempt timestamptz NOT NULL
);
CREATE INDEX login_throttle_last_attempt ON login_throttle (last_attempt);
