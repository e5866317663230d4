-- Memories and translations residents add to a place from its page or the API. Each is
-- kept here with its moderation state; while published it is also one of the place's
-- narratives (places.narratives), so every map, search and download shows it as it
-- shows the place's own story. Deleted with its place.
CREATE TABLE narrative_additions (
    id TEXT PRIMARY KEY,                 -- 'nr_...', stable and opaque
    place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('memory', 'translation')),
    text TEXT NOT NULL,
    language TEXT NOT NULL,              -- BCP 47
    provenance TEXT NOT NULL,
    author TEXT,                         -- the name its contributor chose to have shown
    contributor_contact TEXT,            -- personal data: only for erasure on request
    translates TEXT,                     -- the story it translates (its id, or language)
    translates_hash TEXT,                -- fingerprint of that story's text when translated
    translates_version INTEGER,          -- the place's version then
    status TEXT NOT NULL,                -- pending, published, rejected
    reason TEXT,                         -- why it was rejected or hidden
    consent_given_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX narrative_additions_place ON narrative_additions (place_id, created_at);
CREATE INDEX narrative_additions_status ON narrative_additions (status, created_at);
CREATE INDEX narrative_additions_contact ON narrative_additions (lower(trim(contributor_contact)))
    WHERE contributor_contact IS NOT NULL;
