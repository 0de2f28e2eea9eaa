-- Lists sorted by name in the organisation's language: the sort key is
-- computed in Go (golang.org/x/text/collate) and compared byte-wise, so
-- one ordinary index serves every language, the same on both databases.
ALTER TABLE customers ADD COLUMN sort_key bytea NOT NULL DEFAULT '\x';
CREATE INDEX customers_sort_key_idx ON customers (org_id, sort_key, number);
CREATE INDEX customers_first_contact_idx ON customers (org_id, first_contact);
CREATE INDEX customers_language_idx ON customers (org_id, language);

-- Contains-search on names: the searchable text of each customer with a
-- trigram index (pg_trgm, which store.Migrate makes sure is installed).
CREATE TABLE customer_search (
    org_id      text NOT NULL,
    customer_id uuid NOT NULL,
    number      bigint NOT NULL,
    text        text NOT NULL,
    PRIMARY KEY (org_id, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
-- For text found in many names, reading in number order and testing each
-- text is cheaper than collecting every match: the planner picks.
CREATE UNIQUE INDEX customer_search_number_idx ON customer_search (org_id, number);

-- The operator class lives in whichever schema pg_trgm was installed in.
DO $$
BEGIN
    EXECUTE format('CREATE INDEX customer_search_trgm_idx ON customer_search USING gin (text %I.gin_trgm_ops)',
        (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'));
END
$$;
