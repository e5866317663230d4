-- Recordings at walk stops (issue 19 item 4): a recording with a walk_id was made for
-- that walk's stop at place_id (by the walk's proposer), not for the place itself. It
-- goes with the walk (erased, withdrawn) and with the place (a place erased leaves every
-- walk, and its stops' recordings with it). Positions stay unique per place across both.
ALTER TABLE recordings ADD COLUMN walk_id TEXT REFERENCES walks(id) ON DELETE CASCADE;
CREATE INDEX recordings_walk ON recordings (walk_id, place_id, position)
    WHERE walk_id IS NOT NULL;
