-- The origins of the fields a customer was created with, in one row: the
-- row whose field is '*' says that every field named in fields (a comma
-- list of field names) got its value from kind/source at that time. A
-- per-field row, written by every later change, takes precedence over it.
ALTER TABLE customer_field_origins ADD COLUMN fields text;

-- Existing customers: per customer, the largest group of import or
-- interaction rows of one source and moment (what its creation wrote)
-- becomes one '*' row.
INSERT INTO customer_field_origins (org_id, customer_id, field, kind, source, at, fields)
SELECT org_id, customer_id, '*', kind, source, at, fields FROM (
    SELECT org_id, customer_id, kind, source, at, string_agg(field, ',' ORDER BY field) AS fields,
        row_number() OVER (PARTITION BY org_id, customer_id ORDER BY count(*) DESC, at, kind, source) AS rn
    FROM customer_field_origins
    WHERE kind IN ('import', 'interaction')
    GROUP BY org_id, customer_id, kind, source, at
    HAVING count(*) >= 2
) AS g
WHERE rn = 1;

DELETE FROM customer_field_origins AS o
WHERE o.field <> '*' AND EXISTS (
    SELECT 1 FROM customer_field_origins AS s
    WHERE s.org_id = o.org_id AND s.customer_id = o.customer_id AND s.field = '*'
      AND s.kind = o.kind AND s.source = o.source AND s.at = o.at);
