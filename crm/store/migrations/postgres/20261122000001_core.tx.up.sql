-- The core: organisations, customers with their search indexes, custom field
-- definitions and the history timeline. Every table carries org_id and every
-- unique key starts with it, so no key or lookup can cross organisations.

CREATE TABLE organisations (
    id                   text PRIMARY KEY,
    name                 text NOT NULL,
    default_language     text NOT NULL,
    default_country      text NOT NULL DEFAULT '',
    next_customer_number bigint NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

CREATE TABLE customers (
    id                   uuid PRIMARY KEY,
    org_id               text NOT NULL REFERENCES organisations (id),
    number               bigint NOT NULL,
    first_name           text NOT NULL DEFAULT '',
    middle_name          text NOT NULL DEFAULT '',
    last_name            text NOT NULL DEFAULT '',
    company              text NOT NULL DEFAULT '',
    street               text NOT NULL DEFAULT '',
    house_number         text NOT NULL DEFAULT '',
    postal_code          text NOT NULL DEFAULT '',
    city                 text NOT NULL DEFAULT '',
    country              text NOT NULL DEFAULT '',
    phones               jsonb,
    birth_date           date,
    passport_expiry      date,
    status               text NOT NULL,
    origin               text NOT NULL DEFAULT '',
    first_contact        date,
    login_email          text,
    login_email_key      text,
    email                text,
    email_key            text,
    alt_emails           jsonb,
    language             text NOT NULL,
    internal_description text NOT NULL DEFAULT '',
    remarks              text NOT NULL DEFAULT '',
    no_post              boolean NOT NULL DEFAULT false,
    no_mailings          boolean NOT NULL DEFAULT false,
    assigned_to          text NOT NULL DEFAULT '',
    custom_fields        jsonb,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    last_activity_at     timestamptz NOT NULL,
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
-- byte-wise (COLLATE "C") so that a range scan is exactly a prefix match.
CREATE TABLE customer_name_keys (
    org_id      text NOT NULL,
    customer_id uuid NOT NULL,
    key         text COLLATE "C" NOT NULL,
    -- The customer's number (which never changes), so that a name search
    -- ordered by number reads only this index until the page is full.
    number      bigint NOT NULL,
    PRIMARY KEY (org_id, key, customer_id) INCLUDE (number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_name_keys_customer_idx ON customer_name_keys (customer_id);

CREATE TABLE customer_emails (
    org_id      text NOT NULL,
    customer_id uuid NOT NULL,
    email_key   text NOT NULL,
    PRIMARY KEY (org_id, email_key, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_emails_customer_idx ON customer_emails (customer_id);

CREATE TABLE customer_phones (
    org_id      text NOT NULL,
    customer_id uuid NOT NULL,
    number      text NOT NULL,
    PRIMARY KEY (org_id, number, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_phones_customer_idx ON customer_phones (customer_id);

CREATE TABLE custom_field_definitions (
    org_id      text NOT NULL REFERENCES organisations (id),
    key         text NOT NULL,
    label       text NOT NULL,
    type        text NOT NULL,
    choices     jsonb,
    required    boolean NOT NULL DEFAULT false,
    position    integer NOT NULL DEFAULT 0,
    archived_at timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, key)
);

-- No foreign key to customers: the deletion event outlives its customer.
CREATE TABLE history_events (
    id          uuid PRIMARY KEY,
    org_id      text NOT NULL REFERENCES organisations (id),
    customer_id uuid NOT NULL,
    kind        text NOT NULL,
    actor_kind  text NOT NULL,
    actor_id    text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    changes     jsonb
);
CREATE INDEX history_events_timeline_idx ON history_events (org_id, customer_id, at DESC, id DESC);
