-- Places, their neighbourhoods and workshops; the PostGIS twin of sqlite/0001_initial.sql.
-- Geometry lives in geometry(Geometry, 4326) columns with GiST indexes, so bounding-box
-- and intersection filters run in the database. Bounds columns are not stored: the store
-- computes them in SELECT to keep the shared column order of geodata/store/records.py.
-- In public, whatever schema the tables go in: extensions are one per database.
CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;

CREATE TABLE neighbourhoods (
    id integer PRIMARY KEY,
    name text NOT NULL,
    code text,
    geom geometry(Geometry, 4326) NOT NULL
);
CREATE INDEX neighbourhoods_geom ON neighbourhoods USING gist (geom);

-- A mapping session: submissions carrying its join code are attached to it.
CREATE TABLE workshops (
    code text PRIMARY KEY,
    title text NOT NULL,
    neighbourhood_id integer REFERENCES neighbourhoods (id) ON DELETE SET NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    moderation text NOT NULL DEFAULT 'pre',  -- 'pre': nothing public until published; 'post'
    languages jsonb NOT NULL DEFAULT '[]',   -- list of BCP 47 tags
    created_by text,
    created_at timestamptz NOT NULL
);

CREATE TABLE places (
    rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- insertion order; never shown
    id text NOT NULL UNIQUE,                               -- the stable public id
    geom geometry(Geometry, 4326) NOT NULL,
    geom_type text NOT NULL,
    title text NOT NULL,
    narratives jsonb NOT NULL,  -- list of {text, language, provenance}
    category text NOT NULL,
    status text NOT NULL,
    period text,
    year_from integer,
    year_to integer,
    tags jsonb NOT NULL DEFAULT '[]',
    sensitivity text NOT NULL DEFAULT 'public',
    licence text NOT NULL,
    attribution text,
    consent_publish boolean NOT NULL,    -- shown on public maps
    consent_open_data boolean NOT NULL,  -- included in open-data downloads
    consent_research boolean NOT NULL,   -- used for research
    consent_given_at timestamptz,
    contributor_name text,
    contributor_contact text,
    neighbourhood_id integer REFERENCES neighbourhoods (id) ON DELETE SET NULL,
    workshop text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX places_geom ON places USING gist (geom);
CREATE INDEX places_status_created ON places (status, created_at);
CREATE INDEX places_neighbourhood ON places (neighbourhood_id, status);
CREATE INDEX places_category ON places (category, status);
CREATE INDEX places_workshop ON places (workshop) WHERE workshop IS NOT NULL;
CREATE INDEX places_updated ON places (updated_at);
