-- Mail (C7): organisations' templates, and the outbox of rendered mails
-- that a worker delivers. An outbox row is written in the same transaction
-- as the change that causes the mail.

CREATE TABLE mail_templates (
    org_id     text NOT NULL REFERENCES organisations (id),
    key        text NOT NULL,
    language   text NOT NULL,
    subject    text NOT NULL,
    text       text NOT NULL,
    html       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, key, language)
);

CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    org_id          text NOT NULL,
    customer_id     uuid NOT NULL,
    template        text NOT NULL,
    language        text NOT NULL,
    to_email        text NOT NULL,
    to_name         text NOT NULL DEFAULT '',
    subject         text NOT NULL,
    text            text NOT NULL,
    html            text NOT NULL DEFAULT '',
    attachments     jsonb,
    status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    last_error      text NOT NULL DEFAULT '',
    actor_kind      text NOT NULL,
    actor_id        text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    -- A mail is the customer's data: it goes with the customer (the
    -- services first let go of its attachments' contents).
    CONSTRAINT outbox_org_id_uq UNIQUE (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_customer_idx ON outbox (org_id, customer_id, id);
CREATE INDEX outbox_org_idx ON outbox (org_id, id);
