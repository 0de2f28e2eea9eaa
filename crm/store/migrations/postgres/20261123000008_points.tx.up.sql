-- Loyalty points as a ledger (C8): transactions and the allocations of
-- debits to credits are only ever appended. What is left of a credit is
-- its points minus what debits took from it, so a balance is always the
-- sum of its ledger. point_lots keeps that remainder per credit, written
-- in the same transaction as each allocation, so reading a balance does
-- not sum a customer's whole history; its CHECK makes an overdraft
-- impossible even for a faulty caller.

ALTER TABLE organisations ADD COLUMN points_enabled boolean NOT NULL DEFAULT false;

CREATE TABLE point_transactions (
    id              uuid PRIMARY KEY,
    org_id          text NOT NULL,
    customer_id     uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('award', 'redeem', 'correct', 'reverse', 'expire')),
    points          bigint NOT NULL CHECK (points <> 0),
    available_from  date,
    expires_on      date,
    reason          text NOT NULL DEFAULT '',
    reference       text NOT NULL DEFAULT '',
    reverses        uuid,
    idempotency_key text,
    request_hash    text NOT NULL DEFAULT '',
    actor_kind      text NOT NULL,
    actor_id        text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL,
    CONSTRAINT point_transactions_org_id_uq UNIQUE (org_id, id),
    -- A key is applied once per organisation; a transaction is reversed once.
    CONSTRAINT point_transactions_key_uq UNIQUE (org_id, idempotency_key),
    CONSTRAINT point_transactions_reverses_uq UNIQUE (org_id, reverses),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX point_transactions_customer_idx ON point_transactions (org_id, customer_id, at, id);

CREATE TABLE point_allocations (
    org_id    text NOT NULL,
    debit_id  uuid NOT NULL,
    credit_id uuid NOT NULL,
    points    bigint NOT NULL CHECK (points <> 0),
    PRIMARY KEY (org_id, debit_id, credit_id),
    FOREIGN KEY (org_id, debit_id) REFERENCES point_transactions (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, credit_id) REFERENCES point_transactions (org_id, id) ON DELETE CASCADE
);
CREATE INDEX point_allocations_credit_idx ON point_allocations (org_id, credit_id);

CREATE TABLE point_lots (
    org_id         text NOT NULL,
    credit_id      uuid NOT NULL,
    customer_id    uuid NOT NULL,
    remaining      bigint NOT NULL CHECK (remaining >= 0),
    available_from date,
    expires_on     date,
    PRIMARY KEY (org_id, credit_id),
    FOREIGN KEY (org_id, credit_id) REFERENCES point_transactions (org_id, id) ON DELETE CASCADE
);
CREATE INDEX point_lots_customer_idx ON point_lots (org_id, customer_id);
-- Lots with points left that expire, for the expiry run.
CREATE INDEX point_lots_expiry_idx ON point_lots (org_id, expires_on) WHERE remaining > 0 AND expires_on IS NOT NULL;
