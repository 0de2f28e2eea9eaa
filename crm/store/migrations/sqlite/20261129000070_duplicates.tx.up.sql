-- Duplicate candidates (C11). A new or changed customer is checked against
-- the base by a background job (crm.CheckDuplicates), which reads the
-- indexes of the record (e-mail, phone, name and birth date), the match
-- conflicts interactions recorded, and these place keys.
--
-- duplicate_keys: the customer's postal code, and its city with the start
-- and with the end of its last name (search keys, computed in Go), each
-- with the customer's full name key, so that similar names in one place are
-- compared (by trigrams, in Go) without reading the customers table. The
-- job writes them; they go with the record (merge, anonymisation, delete).
CREATE TABLE duplicate_keys (
    org_id      text NOT NULL,
    key         text NOT NULL,
    customer_id TEXT NOT NULL,
    name        text NOT NULL,
    PRIMARY KEY (org_id, key, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX duplicate_keys_customer_idx ON duplicate_keys (org_id, customer_id);

-- One row per pair, customer_id < other_customer_id, with its score and
-- reasons (comma-separated crm.DuplicateReason values).
CREATE TABLE duplicate_candidates (
    org_id            text NOT NULL,
    customer_id       TEXT NOT NULL,
    other_customer_id TEXT NOT NULL,
    score             integer NOT NULL,
    reasons           text NOT NULL,
    found_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, customer_id, other_customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, other_customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX duplicate_candidates_other_idx ON duplicate_candidates (org_id, other_customer_id);
-- The list, best first.
CREATE INDEX duplicate_candidates_score_idx ON duplicate_candidates (org_id, score DESC, customer_id, other_customer_id);

-- Pairs staff said are not the same person: both directions, so that a
-- merge moves them like match conflicts, and a check skips them.
CREATE TABLE duplicate_dismissals (
    org_id            text NOT NULL,
    customer_id       TEXT NOT NULL,
    other_customer_id TEXT NOT NULL,
    dismissed_at      TIMESTAMP NOT NULL,
    dismissed_by      text NOT NULL,
    PRIMARY KEY (org_id, customer_id, other_customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, other_customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX duplicate_dismissals_other_idx ON duplicate_dismissals (org_id, other_customer_id);
