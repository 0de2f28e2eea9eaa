-- A customer's search row is found by the customer's number (which never
-- changes), as its name keys are: the customer's id and the primary key on
-- it go, the unique index on (org_id, number) becomes the primary key.
-- Without the id there is no foreign key: delete and merge remove the row
-- (removeRecordIndexes), anonymisation empties it.
ALTER TABLE customer_search DROP CONSTRAINT customer_search_pkey;
ALTER TABLE customer_search DROP COLUMN customer_id;
ALTER TABLE customer_search ADD CONSTRAINT customer_search_pkey PRIMARY KEY USING INDEX customer_search_number_idx;
