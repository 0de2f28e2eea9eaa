-- The core: organisations, customers with their search indexes, custom field
-- definitions and the history timeline. Every table carries org_id and every
-- unique key starts with it, so no key or lookup can cross organisations.

CREATE TABLE organisations (
    id                   text PRIMARY KEY,
    name                 text NOT NULL,
    default_language     text NOT NULL,
    default_country      text NOT NULL DEFAULT '',
    next_customer_number INTEGER NOT NULL DEFAULT 0,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);

CREATE TABLE customers (
    id                   TEXT PRIMARY KEY,
    org_id               text NOT NULL REFERENCES organisations (id),
    number               INTEGER NOT NULL,
    first_name           text NOT NULL DEFAULT '',
    middle_name          text NOT NULL DEFAULT '',
    last_name            text NOT NULL DEFAULT '',
    company              text NOT NULL DEFAULT '',
    street               text NOT NULL DEFAULT '',
    house_number         text NOT NULL DEFAULT '',
    postal_code          text NOT NULL DEFAULT '',
    city                 text NOT NULL DEFAULT '',
    country              text NOT NULL DEFAULT '',
    phones               TEXT,
    birth_date           TEXT,
    passport_expiry      TEXT,
    status               text NOT NULL,
    origin               text NOT NULL DEFAULT '',
    first_contact        TEXT,
    login_email          text,
    login_email_key      text,
    email                text,
    email_key            text,
    alt_emails           TEXT,
    language             text NOT NULL,
    internal_description text NOT NULL DEFAULT '',
    remarks              text NOT NULL DEFAULT '',
    no_post              INTEGER NOT NULL DEFAULT 0,
    no_mailings          INTEGER NOT NULL DEFAULT 0,
    assigned_to          text NOT NULL DEFAULT '',
    custom_fields        TEXT,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    last_activity_at     TIMESTAMP NOT NULL,
    version              integer NOT NULL,
    CONSTRAINT customers_number_uq UNIQUE (org_id, number),
    CONSTRAINT customers_login_email_uq UNIQUE (org_id, login_email_key),
    -- Target of the side tables' foreign keys: a side row can only point at
    -- a customer of its own organisation.
    CONSTRAINT customers_org_id_uq UNIQUE (org_id, id)
);
CREATE INDEX customers_email_idx ON customers (org_id, email_key);
CREATE INDEX customers_birth_date_idx ON customers (org_id, birth_date);
CREATE INDEX customers_created_idx ON customers (org_id, created_at);

-- Search indexes kept in sync with customers on every write. Keys compare
-- byte-wise (SQLite's default BINARY collation) so that a range scan is
-- exactly a prefix match.
CREATE TABLE customer_name_keys (
    org_id      text NOT NULL,
    customer_id TEXT NOT NULL,
    key         text NOT NULL,
    -- The customer's number (which never changes), so that a name search
    -- ordered by number reads only this index until the page is full.
    number      INTEGER NOT NULL,
    PRIMARY KEY (org_id, key, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_name_keys_customer_idx ON customer_name_keys (customer_id);

CREATE TABLE customer_emails (
    org_id      text NOT NULL,
    customer_id TEXT NOT NULL,
    email_key   text NOT NULL,
    PRIMARY KEY (org_id, email_key, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_emails_customer_idx ON customer_emails (customer_id);

CREATE TABLE customer_phones (
    org_id      text NOT NULL,
    customer_id TEXT NOT NULL,
    number      text NOT NULL,
    PRIMARY KEY (org_id, number, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_phones_customer_idx ON customer_phones (customer_id);

CREATE TABLE custom_field_definitions (
    org_id      text NOT NULL REFERENCES organisations (id),
    key         text NOT NULL,
    label       text NOT NULL,
    type        text NOT NULL,
    choices     TEXT,
    required    INTEGER NOT NULL DEFAULT 0,
    position    integer NOT NULL DEFAULT 0,
    archived_at TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, key)
);

-- No foreign key to customers: the deletion event outlives its customer.
CREATE TABLE history_events (
    id          TEXT PRIMARY KEY,
    org_id      text NOT NULL REFERENCES organisations (id),
    customer_id TEXT NOT NULL,
    kind        text NOT NULL,
    actor_kind  text NOT NULL,
    actor_id    text NOT NULL DEFAULT '',
    at          TIMESTAMP NOT NULL,
    changes     TEXT
);
CREATE INDEX history_events_timeline_idx ON history_events (org_id, customer_id, at DESC, id DESC);
