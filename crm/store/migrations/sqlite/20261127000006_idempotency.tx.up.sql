-- Idempotency keys of create calls: one record per organisation and key,
-- written in the same transaction as what the call created, with the
-- call's result so that a repeat gets the first answer. Records expire
-- after a day (crm.IdempotencyTTL); created_at leads the cleanup. The
-- answer names what was created: anonymising a customer removes the
-- answers that name it.

CREATE TABLE idempotency_records (
    org_id       text NOT NULL,
    key          text NOT NULL,
    operation    text NOT NULL,
    request_hash text NOT NULL,
    response     text,
    created_at   timestamp NOT NULL,
    PRIMARY KEY (org_id, key)
);

CREATE INDEX idempotency_records_created_at_idx ON idempotency_records (created_at);
