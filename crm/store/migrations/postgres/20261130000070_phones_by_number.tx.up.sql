-- A customer's phone rows name the customer by its number (which never
-- changes), as its name keys and search row do: the uuid and the index on
-- it were half of the phone index's bytes, and the foreign key a check on
-- every phone written. Without the id there is no cascade: delete and
-- merge remove the rows (removeRecordIndexes), an update or anonymisation
-- the numbers the record held, each by its primary key. A new table rather
-- than an UPDATE of every row, which would leave a dead version of each.
CREATE TABLE customer_phones_new (
    org_id          text NOT NULL,
    number          text NOT NULL,
    customer_number bigint NOT NULL,
    CONSTRAINT customer_phones_new_pkey PRIMARY KEY (org_id, number, customer_number)
);
INSERT INTO customer_phones_new (org_id, number, customer_number)
SELECT p.org_id, p.number, c.number FROM customer_phones AS p
JOIN customers AS c ON c.org_id = p.org_id AND c.id = p.customer_id;
DROP TABLE customer_phones;
ALTER TABLE customer_phones_new RENAME TO customer_phones;
ALTER TABLE customer_phones RENAME CONSTRAINT customer_phones_new_pkey TO customer_phones_pkey;
ANALYZE customer_phones;
