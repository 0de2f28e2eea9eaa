-- Customers built from interactions (C3): the platforms' own ids of
-- customers, where each field's value came from, the interactions
-- themselves, the conflicts matching found, the organisation's forms, and
-- the latest review score on the customer.

-- The latest review score of each customer (one row per reviewed customer).
CREATE TABLE customer_reviews (
    org_id         text NOT NULL,
    customer_id    TEXT NOT NULL,
    score          integer NOT NULL,
    max_score      integer NOT NULL,
    source         text NOT NULL,
    at             TIMESTAMP NOT NULL,
    interaction_id TEXT NOT NULL,
    PRIMARY KEY (org_id, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

-- A platform's own id (source, source_id) names one customer.
CREATE TABLE customer_source_ids (
    org_id      text NOT NULL,
    source      text NOT NULL,
    source_id   text NOT NULL,
    customer_id TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, source, source_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_source_ids_customer_idx ON customer_source_ids (org_id, customer_id);

-- A field without a row here was set by staff (Customers.Create).
CREATE TABLE customer_field_origins (
    org_id      text NOT NULL,
    customer_id TEXT NOT NULL,
    field       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('staff', 'import', 'interaction')),
    source      text NOT NULL DEFAULT '',
    at          TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, customer_id, field),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE interactions (
    org_id       text NOT NULL,
    id           TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    kind         text NOT NULL,
    source       text NOT NULL,
    source_id    text NOT NULL DEFAULT '',
    form_key     text NOT NULL DEFAULT '',
    at           TIMESTAMP NOT NULL,
    created      INTEGER NOT NULL,
    matched_by   text NOT NULL DEFAULT '',
    data         TEXT,
    review_score integer,
    review_max   integer,
    review_text  text NOT NULL DEFAULT '',
    actor_kind   text NOT NULL,
    actor_id     text NOT NULL DEFAULT '',
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX interactions_customer_idx ON interactions (org_id, customer_id, at DESC, id DESC);

-- Keys of one incoming record that pointed at two customers: the record
-- went to customer_id; other_customer_id is the other one (issue 21, the
-- duplicates work, reads these).
CREATE TABLE match_conflicts (
    org_id            text NOT NULL,
    id                TEXT NOT NULL,
    customer_id       TEXT NOT NULL,
    other_customer_id TEXT NOT NULL,
    by_key            text NOT NULL,
    value             text NOT NULL,
    interaction_id    TEXT,
    at                TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    CONSTRAINT match_conflicts_pair_uq UNIQUE (org_id, customer_id, other_customer_id, by_key, value),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, other_customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX match_conflicts_other_idx ON match_conflicts (org_id, other_customer_id);

CREATE TABLE forms (
    org_id     text NOT NULL REFERENCES organisations (id),
    key        text NOT NULL,
    name       text NOT NULL,
    kind       text NOT NULL DEFAULT '',
    fields     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, key)
) WITHOUT ROWID;
