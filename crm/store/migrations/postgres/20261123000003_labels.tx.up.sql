-- Labels with benefits, memberships that show a label while active, and
-- the record of benefit uses (C4).
CREATE TABLE labels (
    id         uuid PRIMARY KEY,
    org_id     text NOT NULL REFERENCES organisations (id),
    name       text NOT NULL,
    name_key   text NOT NULL,
    benefits   text NOT NULL DEFAULT '',
    colour     text NOT NULL DEFAULT '',
    membership boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT labels_name_uq UNIQUE (org_id, name_key),
    CONSTRAINT labels_org_id_uq UNIQUE (org_id, id)
);

-- Labels given to a customer directly (not through a membership).
CREATE TABLE customer_labels (
    org_id      text NOT NULL,
    customer_id uuid NOT NULL,
    label_id    uuid NOT NULL,
    added_at    timestamptz NOT NULL,
    PRIMARY KEY (org_id, customer_id, label_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, label_id) REFERENCES labels (org_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_labels_label_idx ON customer_labels (org_id, label_id, customer_id);

-- Whether a membership is active is computed from its dates when read:
-- nothing has to run when one expires.
CREATE TABLE memberships (
    id           uuid PRIMARY KEY,
    org_id       text NOT NULL,
    label_id     uuid NOT NULL,
    holder_id    uuid NOT NULL,
    starts_on    date NOT NULL,
    ends_on      date NOT NULL,
    cancelled_at timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
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
    membership_id uuid NOT NULL,
    customer_id   uuid NOT NULL,
    PRIMARY KEY (org_id, membership_id, customer_id),
    FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX membership_shares_customer_idx ON membership_shares (org_id, customer_id);

-- Each use of a label's benefit, by whom and when: the count is derived.
CREATE TABLE benefit_uses (
    id            uuid PRIMARY KEY,
    org_id        text NOT NULL,
    customer_id   uuid NOT NULL,
    label_id      uuid NOT NULL,
    membership_id uuid,
    note          text NOT NULL DEFAULT '',
    at            timestamptz NOT NULL,
    actor_kind    text NOT NULL,
    actor_id      text NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, label_id) REFERENCES labels (org_id, id) ON DELETE CASCADE
);
CREATE INDEX benefit_uses_customer_idx ON benefit_uses (org_id, customer_id, label_id);
