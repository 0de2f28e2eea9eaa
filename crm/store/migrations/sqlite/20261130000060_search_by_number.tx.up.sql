-- A customer's search row is found by the customer's number (which never
-- changes), as its name keys are: the customer's 36-character id and the
-- unique index on it were a tenth of the bytes a customer takes. Without
-- the id there is no foreign key: delete and merge remove the row
-- (removeRecordIndexes), anonymisation empties it. The row ids stay, so
-- the trigram index (customer_search_fts) stays as it is.
CREATE TABLE customer_search_new (
    search_id INTEGER PRIMARY KEY,
    org_id    text NOT NULL,
    number    INTEGER NOT NULL,
    text      text NOT NULL
);
INSERT INTO customer_search_new (search_id, org_id, number, text)
SELECT search_id, org_id, number, text FROM customer_search ORDER BY search_id;
-- Dropping the table drops its triggers first: the trigram index does not
-- see the rows go.
DROP TABLE customer_search;
ALTER TABLE customer_search_new RENAME TO customer_search;
CREATE UNIQUE INDEX customer_search_number_idx ON customer_search (org_id, number);
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
