-- The PostGIS twin of sqlite/0007_partial_sensitivity_index.sql: the sensitivity index
-- only ever finds the few generalised or hidden places, so it holds only those, and
-- writing a public place no longer touches it. Queries name "sensitivity <> 'public'"
-- (postgis_sql.place_where), which a generic plan needs to use a partial index.
DROP INDEX IF EXISTS places_sensitivity;
CREATE INDEX places_sensitivity ON places (sensitivity, status) WHERE sensitivity <> 'public';
