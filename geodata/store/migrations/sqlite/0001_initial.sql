-- Places, their neighbourhoods, and an R*Tree over every place's bounding box.
CREATE TABLE neighbourhoods (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    code TEXT,
    geom BLOB NOT NULL  -- WKB, EPSG:4326
);

-- A mapping session: submissions carrying its join code are attached to it.
CREATE TABLE workshops (
    code TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    neighbourhood_id INTEGER REFERENCES neighbourhoods(id) ON DELETE SET NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    moderation TEXT NOT NULL DEFAULT 'pre',  -- 'pre': nothing public until published; 'post'
    languages TEXT NOT NULL DEFAULT '[]',     -- JSON list of BCP 47 tags
    created_by TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE places (
    rid INTEGER PRIMARY KEY,  -- internal key for the R*Tree; never shown
    id TEXT NOT NULL UNIQUE,  -- the stable public id
    geom BLOB NOT NULL,       -- WKB, EPSG:4326
    geom_type TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    title TEXT NOT NULL,
    narratives TEXT NOT NULL,  -- JSON list of {text, language, provenance}
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    period TEXT,
    year_from INTEGER,
    year_to INTEGER,
    tags TEXT NOT NULL DEFAULT '[]',
    sensitivity TEXT NOT NULL DEFAULT 'public',
    licence TEXT NOT NULL,
    attribution TEXT,
    consent_publish INTEGER NOT NULL,    -- shown on public maps
    consent_open_data INTEGER NOT NULL,  -- included in open-data downloads
    consent_research INTEGER NOT NULL,   -- used for research
    consent_given_at TEXT,
    contributor_name TEXT,
    contributor_contact TEXT,
    neighbourhood_id INTEGER REFERENCES neighbourhoods(id) ON DELETE SET NULL,
    workshop TEXT,
    created_at TEXT NOT NULL,  -- ISO 8601 UTC, sortable as text
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX places_status_created ON places (status, created_at);
CREATE INDEX places_neighbourhood ON places (neighbourhood_id, status);
CREATE INDEX places_category ON places (category, status);
CREATE INDEX places_workshop ON places (workshop) WHERE workshop IS NOT NULL;

CREATE VIRTUAL TABLE places_rtree USING rtree (rid, minx, maxx, miny, maxy);

-- Inserts fill the R*Tree from the store in one INSERT ... SELECT per batch, which is
-- several times faster than a row trigger for bulk imports; updates and deletes follow.
CREATE TRIGGER places_rtree_update AFTER UPDATE OF minx, miny, maxx, maxy ON places BEGIN
    UPDATE places_rtree SET minx = new.minx, maxx = new.maxx, miny = new.miny, maxy = new.maxy
    WHERE rid = new.rid;
END;
CREATE TRIGGER places_rtree_delete AFTER DELETE ON places BEGIN
    DELETE FROM places_rtree WHERE rid = old.rid;
END;
