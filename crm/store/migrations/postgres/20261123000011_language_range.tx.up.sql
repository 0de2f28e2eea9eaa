-- A language filter ("sv" and its regional variants "sv-FI", ...) is one
-- index range, language >= 'sv' AND language < 'sv.': '-' sorts just below
-- '.', and tags hold only letters, digits and '-'. That holds in byte order
-- only: in a database created with a glibc locale such as en_US.UTF-8 the
-- hyphen is ignored and 'sv-FI' would sort after 'sv.', so the column
-- compares bytewise whatever the database's default collation.
ALTER TABLE customers ALTER COLUMN language TYPE text COLLATE "C";

-- Language and first contact together, carrying the number: a filter on both
-- reads one range of this index alone, and the planner can merge its
-- numbers with a tag's links when that is cheaper than looking up each
-- tagged customer (a rare language in a short period).
DROP INDEX customers_language_idx;
CREATE INDEX customers_language_idx ON customers (org_id, language, first_contact) INCLUDE (number);

-- Changing the column's collation dropped its statistics; without them the
-- planner guesses how many customers speak a language.
ANALYZE customers;
