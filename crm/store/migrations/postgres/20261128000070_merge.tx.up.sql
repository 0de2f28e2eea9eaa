-- Merges (C11): the id and number of a customer merged into another
-- resolve to the survivor. The customer row itself is gone, so there is
-- no foreign key to it; a later merge of the survivor re-points its
-- tombstones (see mergeTables in merge.go).
CREATE TABLE customer_tombstones (
    org_id      text NOT NULL REFERENCES organisations (id),
    id          uuid NOT NULL,
    number      bigint NOT NULL,
    survivor_id uuid NOT NULL,
    merged_at   timestamptz NOT NULL,
    merged_by   text NOT NULL,
    PRIMARY KEY (org_id, id),
    CONSTRAINT customer_tombstones_number_uq UNIQUE (org_id, number)
);
CREATE INDEX customer_tombstones_survivor_idx ON customer_tombstones (org_id, survivor_id);
