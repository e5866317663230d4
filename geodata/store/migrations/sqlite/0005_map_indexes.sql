-- Maps ask for the few places with a generalised location in a view separately (they are
-- grouped by their generalised point, not their true one); without this index SQLite
-- walks every published place in the view to find them (1M places: 1 s instead of 0).
CREATE INDEX IF NOT EXISTS places_sensitivity ON places (sensitivity, status);
