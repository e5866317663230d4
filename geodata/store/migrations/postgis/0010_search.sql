-- The PostGIS twin of sqlite/0010_search.sql: each place's title and narratives folded
-- for search by the store (geodata/search.py: lower case, no accents, no punctuation,
-- characters of unspaced scripts set apart), and pg_trgm GIN indexes, which serve
-- LIKE '%...%' for any stretch of three or more characters. The folding is done in
-- Python, not with unaccent() and lower(), so that both backends find the same places
-- whatever the database's locale. NULL for rows written before these columns (filled
-- in by PostGISStore.migrate).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
ALTER TABLE places ADD COLUMN IF NOT EXISTS search_title text;
ALTER TABLE places ADD COLUMN IF NOT EXISTS search_body text;
CREATE INDEX IF NOT EXISTS places_search_title ON places USING gin (search_title public.gin_trgm_ops);
-- Most places (every bulk-imported one) have no narrative: their empty body stays out of
-- the index. Queries say "search_body <> ''" to use it (postgis_search.py).
CREATE INDEX IF NOT EXISTS places_search_body ON places USING gin (search_body public.gin_trgm_ops)
    WHERE search_body <> '';
-- Titles starting with a query, in order (geodata/search.py ranks them first): bytewise,
-- as SQLite compares them, whatever the database's collation.
CREATE INDEX IF NOT EXISTS places_search_title_order ON places (search_title COLLATE "C", rid);
