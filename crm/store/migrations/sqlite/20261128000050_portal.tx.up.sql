-- The customer's own side (C9, C13, C5): portal accounts with their
-- set-password links and sessions, itineraries, contests, brochure
-- requests and mailings. Secrets (set-password links, session tokens,
-- unsubscribe links) are kept only as SHA-256 hashes; passwords only as
-- argon2id PHC strings.

-- Per organisation: what the portal offers and what customers may change.
CREATE TABLE portal_settings (
    org_id                   text PRIMARY KEY REFERENCES organisations (id),
    accounts_on_registration INTEGER NOT NULL DEFAULT 0,
    itineraries_enabled      INTEGER NOT NULL DEFAULT 0,
    contests_enabled         INTEGER NOT NULL DEFAULT 0,
    editable_fields          TEXT,
    updated_at               TIMESTAMP NOT NULL
);

-- A web user: a login e-mail, connected to at most one customer.
CREATE TABLE portal_accounts (
    org_id          text NOT NULL REFERENCES organisations (id),
    id              TEXT NOT NULL,
    customer_id     TEXT,
    email           text NOT NULL,
    email_key       text NOT NULL,
    password_hash   text,
    password_set_at TIMESTAMP,
    failed_signins  integer NOT NULL DEFAULT 0,
    throttled_until TIMESTAMP,
    last_signin_at  TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX portal_accounts_email_uq ON portal_accounts (org_id, email_key);
CREATE UNIQUE INDEX portal_accounts_customer_uq ON portal_accounts (org_id, customer_id) WHERE customer_id IS NOT NULL;

-- Single-use set-password links.
CREATE TABLE portal_tokens (
    org_id     text NOT NULL,
    token_hash text NOT NULL,
    account_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, token_hash),
    FOREIGN KEY (org_id, account_id) REFERENCES portal_accounts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX portal_tokens_account_idx ON portal_tokens (org_id, account_id);

-- Signed-in sessions.
CREATE TABLE portal_sessions (
    org_id       text NOT NULL,
    token_hash   text NOT NULL,
    id           TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, token_hash),
    FOREIGN KEY (org_id, account_id) REFERENCES portal_accounts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX portal_sessions_account_idx ON portal_sessions (org_id, account_id);

-- Saved itineraries: read-only, removed 30 days after saving.
CREATE TABLE itineraries (
    org_id      text NOT NULL,
    id          TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    title       text NOT NULL,
    lines       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX itineraries_customer_idx ON itineraries (org_id, customer_id, created_at);
CREATE INDEX itineraries_expires_idx ON itineraries (org_id, expires_at);

CREATE TABLE contests (
    org_id     text NOT NULL REFERENCES organisations (id),
    id         TEXT NOT NULL,
    name       text NOT NULL,
    question   text NOT NULL,
    starts_on  TEXT NOT NULL,
    ends_on    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE contest_entries (
    org_id      text NOT NULL,
    id          TEXT NOT NULL,
    contest_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    answer      text NOT NULL,
    entered_at  TIMESTAMP NOT NULL,
    winner      INTEGER NOT NULL DEFAULT 0,
    picked_at   TIMESTAMP,
    PRIMARY KEY (org_id, id),
    CONSTRAINT contest_entries_once_uq UNIQUE (org_id, contest_id, customer_id),
    FOREIGN KEY (org_id, contest_id) REFERENCES contests (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX contest_entries_customer_idx ON contest_entries (org_id, customer_id);

CREATE TABLE brochure_requests (
    org_id       text NOT NULL,
    id           TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    brochures    TEXT NOT NULL,
    source       text NOT NULL CHECK (source IN ('staff', 'site')),
    actor_kind   text NOT NULL,
    actor_id     text NOT NULL DEFAULT '',
    requested_at TIMESTAMP NOT NULL,
    printed_on   TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX brochure_requests_customer_idx ON brochure_requests (org_id, customer_id, requested_at);
-- The "to send" list: requests without a print TEXT, oldest first.
CREATE INDEX brochure_requests_to_send_idx ON brochure_requests (org_id, requested_at, id) WHERE printed_on IS NULL;

CREATE TABLE mailings (
    org_id       text NOT NULL REFERENCES organisations (id),
    id           TEXT NOT NULL,
    template     text NOT NULL,
    purpose      text NOT NULL,
    segment_id   text NOT NULL DEFAULT '',
    status       text NOT NULL CHECK (status IN ('running', 'done')),
    after_number INTEGER NOT NULL DEFAULT 0,
    queued       integer NOT NULL DEFAULT 0,
    skipped      integer NOT NULL DEFAULT 0,
    actor_kind   text NOT NULL,
    actor_id     text NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE mailing_recipients (
    org_id           text NOT NULL,
    mailing_id       TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    mail_id          TEXT NOT NULL,
    unsubscribe_hash text NOT NULL,
    unsubscribed_at  TIMESTAMP,
    PRIMARY KEY (org_id, mailing_id, customer_id),
    CONSTRAINT mailing_recipients_unsubscribe_uq UNIQUE (org_id, unsubscribe_hash),
    FOREIGN KEY (org_id, mailing_id) REFERENCES mailings (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX mailing_recipients_customer_idx ON mailing_recipients (org_id, customer_id);
