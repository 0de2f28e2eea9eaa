-- Labels with benefits, memberships that show a label while active, and
-- the record of benefit uses (C4).
CREATE TABLE labels (
    id         TEXT PRIMARY KEY,
    org_id     text NOT NULL REFERENCES organisations (id),
    name       text NOT NULL,
    name_key   text NOT NULL,
    benefits   text NOT NULL DEFAULT '',
    colour     text NOT NULL DEFAULT '',
    membership INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT labels_name_uq UNIQUE (org_id, name_key),
    CONSTRAINT labels_org_id_uq UNIQUE (org_id, id)
);

-- Labels given to a customer directly (not through a membership).
CREATE TABLE customer_labels (
    org_id      text NOT NULL,
    customer_id TEXT NOT NULL,
    label_id    TEXT NOT NULL,
    added_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, customer_id, label_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, label_id) REFERENCES labels (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_labels_label_idx ON customer_labels (org_id, label_id, customer_id);

-- Whether a membership is active is computed from its dates when read:
-- nothing has to run when one expires.
CREATE TABLE memberships (
    id           TEXT PRIMARY KEY,
    org_id       text NOT NULL,
    label_id     TEXT NOT NULL,
    holder_id    TEXT NOT NULL,
    starts_on    TEXT NOT NULL,
    ends_on      TEXT NOT NULL,
    cancelled_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CONSTRAINT memberships_dates_ck CHECK (ends_on >= starts_on),
    CONSTRAINT memberships_org_id_uq UNIQUE (org_id, id),
    FOREIGN KEY (org_id, holder_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, label_id) REFERENCES labels (org_id, id) ON DELETE CASCADE
);
CREATE INDEX memberships_holder_idx ON memberships (org_id, holder_id);
CREATE INDEX memberships_label_idx ON memberships (org_id, label_id, ends_on);

-- The further customers a membership is shared with.
CREATE TABLE membership_shares (
    org_id        text NOT NULL,
    membership_id TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    PRIMARY KEY (org_id, membership_id, customer_id),
    FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX membership_shares_customer_idx ON membership_shares (org_id, customer_id);

-- Each use of a label's benefit, by whom and when: the count is derived.
CREATE TABLE benefit_uses (
    id            TEXT PRIMARY KEY,
    org_id        text NOT NULL,
    customer_id   TEXT NOT NULL,
    label_id      TEXT NOT NULL,
    membership_id TEXT,
    note          text NOT NULL DEFAULT '',
    at            TIMESTAMP NOT NULL,
    actor_kind    text NOT NULL,
    actor_id      text NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, label_id) REFERENCES labels (org_id, id) ON DELETE CASCADE
);
CREATE INDEX benefit_uses_customer_idx ON benefit_uses (org_id, customer_id, label_id);
