-- Lists sorted by name in the organisation's language: the sort key is
-- computed in Go (golang.org/x/text/collate) and compared byte-wise, so
-- one ordinary index serves every language, the same on both databases.
ALTER TABLE customers ADD COLUMN sort_key BLOB NOT NULL DEFAULT x'';
CREATE INDEX customers_sort_key_idx ON customers (org_id, sort_key, number);
CREATE INDEX customers_first_contact_idx ON customers (org_id, first_contact);
CREATE INDEX customers_language_idx ON customers (org_id, language);

-- Contains-search on names: the searchable text of each customer, indexed
-- by an FTS5 trigram table kept in sync by triggers. search_id is an
-- INTEGER PRIMARY KEY so that the index's row ids survive VACUUM; it is
-- given when the customer is created and kept for life, so its order is
-- the order of customer numbers within an organisation.
CREATE TABLE customer_search (
    search_id   INTEGER PRIMARY KEY,
    org_id      text NOT NULL,
    customer_id TEXT NOT NULL,
    number      INTEGER NOT NULL,
    text        text NOT NULL,
    UNIQUE (org_id, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX customer_search_number_idx ON customer_search (org_id, number);
CREATE VIRTUAL TABLE customer_search_fts USING fts5(
    text, content = 'customer_search', content_rowid = 'search_id', tokenize = 'trigram'
);
CREATE TRIGGER customer_search_insert AFTER INSERT ON customer_search BEGIN
    INSERT INTO customer_search_fts (rowid, text) VALUES (new.search_id, new.text);
END;
CREATE TRIGGER customer_search_update AFTER UPDATE OF text ON customer_search BEGIN
    INSERT INTO customer_search_fts (customer_search_fts, rowid, text) VALUES ('delete', old.search_id, old.text);
    INSERT INTO customer_search_fts (rowid, text) VALUES (new.search_id, new.text);
END;
CREATE TRIGGER customer_search_delete AFTER DELETE ON customer_search BEGIN
    INSERT INTO customer_search_fts (customer_search_fts, rowid, text) VALUES ('delete', old.search_id, old.text);
END;
