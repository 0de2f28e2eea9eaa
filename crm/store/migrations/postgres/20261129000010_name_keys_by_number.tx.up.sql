-- Name keys keyed by (org_id, key, number), without the customer's id
-- and without the index on it: a customer's keys are removed by computing
-- them again from the names it had (see nameKeyRow in crm/store/models.go).
-- Without a foreign key: a cascade would have to find the keys by number,
-- which only a second index could do; every writer that deletes or renames
-- a customer removes its keys itself. The table is copied (not altered in
-- place) so that the dropped column's bytes go with the old table.
CREATE TABLE customer_name_keys_new (
    org_id text NOT NULL,
    key    text COLLATE "C" NOT NULL,
    -- The customer's number (which never changes): a name search in
    -- number order reads only the primary key until the page is full.
    number bigint NOT NULL
);
INSERT INTO customer_name_keys_new (org_id, key, number)
SELECT org_id, key, number FROM customer_name_keys ORDER BY org_id, key, number;
DROP TABLE customer_name_keys;
ALTER TABLE customer_name_keys_new RENAME TO customer_name_keys;
ALTER TABLE customer_name_keys ADD CONSTRAINT customer_name_keys_pkey PRIMARY KEY (org_id, key, number);
