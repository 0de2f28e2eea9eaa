-- Tags and attributes (C4): per-organisation definitions and the links of
-- customers to them. One table for both kinds: they have the same shape and
-- the same filters; only tags are limited per customer.
CREATE TABLE qualifiers (
    id         uuid PRIMARY KEY,
    org_id     text NOT NULL REFERENCES organisations (id),
    kind       text NOT NULL CHECK (kind IN ('tag', 'attribute')),
    name       text NOT NULL,
    name_key   text NOT NULL,
    colour     text NOT NULL DEFAULT '',
    position   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT qualifiers_name_uq UNIQUE (org_id, kind, name_key),
    CONSTRAINT qualifiers_org_id_uq UNIQUE (org_id, id)
);

-- A tag link takes one of the slots 1 to 9 of its customer, unique per
-- customer and kind: a tenth tag cannot be stored, whatever runs above.
-- Attribute links have slot 0 and are not limited.
CREATE TABLE customer_qualifiers (
    org_id       text NOT NULL,
    customer_id  uuid NOT NULL,
    -- The customer's number (which never changes): filters read the
    -- customers carrying a tag in number order, the order of list pages.
    number       bigint NOT NULL,
    qualifier_id uuid NOT NULL,
    kind         text NOT NULL,
    slot         smallint NOT NULL,
    added_at     timestamptz NOT NULL,
    added_by     text NOT NULL,
    PRIMARY KEY (org_id, customer_id, qualifier_id),
    CONSTRAINT customer_qualifiers_slot_ck CHECK ((kind = 'tag' AND slot BETWEEN 1 AND 9) OR (kind = 'attribute' AND slot = 0)),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, qualifier_id) REFERENCES qualifiers (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX customer_qualifiers_tag_slot_uq ON customer_qualifiers (org_id, customer_id, slot) WHERE kind = 'tag';
-- Filters by tag or attribute: which customers carry it.
CREATE INDEX customer_qualifiers_qualifier_idx ON customer_qualifiers (org_id, qualifier_id, kind, number);
