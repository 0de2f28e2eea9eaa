-- Consents and privacy (C5): purposes with versioned wordings, the
-- append-only consent log with its derived current state, double opt-in
-- tokens, anonymisation and the retention policy.

CREATE TABLE consent_purposes (
    id            TEXT PRIMARY KEY,
    org_id        text NOT NULL REFERENCES organisations (id),
    key           text NOT NULL,
    name          text NOT NULL,
    channel       text NOT NULL CHECK (channel IN ('email', 'post', 'sms', 'none')),
    double_opt_in INTEGER NOT NULL DEFAULT 0,
    built_in      INTEGER NOT NULL DEFAULT 0,
    position      integer NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    CONSTRAINT consent_purposes_key_uq UNIQUE (org_id, key),
    CONSTRAINT consent_purposes_org_id_uq UNIQUE (org_id, id)
);

-- A wording is never changed: new text is a new version.
CREATE TABLE consent_wordings (
    id         TEXT PRIMARY KEY,
    org_id     text NOT NULL,
    purpose_id TEXT NOT NULL,
    language   text NOT NULL,
    version    integer NOT NULL,
    text       text NOT NULL,
    sha256     text NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT consent_wordings_version_uq UNIQUE (org_id, purpose_id, language, version),
    CONSTRAINT consent_wordings_org_id_uq UNIQUE (org_id, id),
    FOREIGN KEY (org_id, purpose_id) REFERENCES consent_purposes (org_id, id)
);

-- The consent log: rows are appended, never changed, except that
-- anonymisation clears the evidence (IP address, user agent).
CREATE TABLE consent_records (
    id          TEXT PRIMARY KEY,
    org_id      text NOT NULL,
    customer_id TEXT NOT NULL,
    purpose_id  TEXT NOT NULL,
    state       text NOT NULL CHECK (state IN ('granted', 'withdrawn', 'pending')),
    source      text NOT NULL,
    actor_kind  text NOT NULL,
    actor_id    text NOT NULL DEFAULT '',
    at          TIMESTAMP NOT NULL,
    wording_id  TEXT,
    confirms    TEXT,
    ip          text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, purpose_id) REFERENCES consent_purposes (org_id, id),
    FOREIGN KEY (org_id, wording_id) REFERENCES consent_wordings (org_id, id)
);
CREATE INDEX consent_records_customer_idx ON consent_records (org_id, customer_id, at, id);

-- The current state per customer and purpose, derived from the log in the
-- same transaction as each granted or withdrawn record: filters and mailing
-- selections read it by index instead of searching the log.
CREATE TABLE customer_consents (
    org_id      text NOT NULL,
    customer_id TEXT NOT NULL,
    purpose_id  TEXT NOT NULL,
    -- The customer's number (which never changes): selections read the
    -- customers in a state in number order, the order of list pages.
    number      INTEGER NOT NULL,
    state       text NOT NULL CHECK (state IN ('granted', 'withdrawn')),
    record_id   TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, customer_id, purpose_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, purpose_id) REFERENCES consent_purposes (org_id, id)
);
CREATE INDEX customer_consents_state_idx ON customer_consents (org_id, purpose_id, state, number);

-- Double opt-in tokens, by their SHA-256 only; used_at makes them single use.
CREATE TABLE consent_confirmations (
    org_id      text NOT NULL,
    token_hash  text NOT NULL,
    record_id   TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    purpose_id  TEXT NOT NULL,
    wording_id  TEXT,
    source      text NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    PRIMARY KEY (org_id, token_hash),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX consent_confirmations_customer_idx ON consent_confirmations (org_id, customer_id);

CREATE TABLE retention_policies (
    org_id           text PRIMARY KEY REFERENCES organisations (id),
    enabled          INTEGER NOT NULL,
    inactive_days    integer NOT NULL,
    exclude_purposes TEXT NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

ALTER TABLE customers ADD COLUMN anonymised_at TIMESTAMP;
CREATE INDEX customers_activity_idx ON customers (org_id, last_activity_at);

-- Organisations made before this migration get the built-in purposes that
-- crm.Organisations.Create gives new ones (crm.defaultPurposes). The id is
-- a random (version 4) UUID in its text form.
INSERT INTO consent_purposes (id, org_id, key, name, channel, double_opt_in, built_in, position, created_at, updated_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
             substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
       o.id, p.key, p.name, p.channel, p.double_opt_in, 1, p.position,
       strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
FROM organisations AS o
CROSS JOIN (
    SELECT 'newsletter' AS key, 'Newsletter' AS name, 'email' AS channel, 1 AS double_opt_in, 1 AS position
    UNION ALL SELECT 'commercial_email', 'Commercial e-mail', 'email', 0, 2
    UNION ALL SELECT 'post', 'Post', 'post', 0, 3
    UNION ALL SELECT 'sms', 'SMS', 'sms', 0, 4
    UNION ALL SELECT 'profiling', 'Profiling', 'none', 0, 5
    UNION ALL SELECT 'mailings', 'Mailings', 'none', 0, 6
) AS p;
