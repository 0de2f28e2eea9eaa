-- Exports and imports of customer files (issue 18, C15).

-- Every export of customers: who exported what, when, and how many rows
-- (a privacy auditor asks for it). Newest first by id (UUIDv7).
CREATE TABLE export_records (
    org_id      text NOT NULL REFERENCES organisations (id),
    id          text NOT NULL,
    actor       text NOT NULL,
    at          timestamp NOT NULL,
    finished_at timestamp,
    format      text NOT NULL,
    segment_id  text NOT NULL DEFAULT '',
    filter      text NOT NULL,
    columns     text NOT NULL,
    row_count   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, id)
);

-- File imports: the file itself is a blob; the row is the job's state,
-- its position (rows read) moved in the transaction of each batch.
CREATE TABLE imports (
    org_id      text NOT NULL REFERENCES organisations (id),
    id          text NOT NULL,
    file_name   text NOT NULL,
    options     text NOT NULL,
    mode        text NOT NULL,
    dry_run     boolean NOT NULL,
    mapping     text NOT NULL,
    status      text NOT NULL,
    row_count   bigint NOT NULL DEFAULT 0,
    created     bigint NOT NULL DEFAULT 0,
    updated     bigint NOT NULL DEFAULT 0,
    skipped     bigint NOT NULL DEFAULT 0,
    refused     bigint NOT NULL DEFAULT 0,
    batches     integer NOT NULL DEFAULT 0,
    message     text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamp NOT NULL,
    updated_at  timestamp NOT NULL,
    finished_at timestamp,
    PRIMARY KEY (org_id, id)
);

-- The batches an import wrote, with the numbers of the customers each
-- created (first_number to last_number): the revert removes those.
CREATE TABLE import_batches (
    org_id       text NOT NULL,
    import_id    text NOT NULL,
    seq          bigint NOT NULL,
    from_row     bigint NOT NULL,
    first_number bigint NOT NULL,
    last_number  bigint NOT NULL,
    PRIMARY KEY (org_id, import_id, seq),
    FOREIGN KEY (org_id, import_id) REFERENCES imports (org_id, id) ON DELETE CASCADE
);

-- The customers an import changed, with their values before it and the
-- version it left: the revert restores those still at that version.
-- They go with the customer, and anonymising it removes them.
CREATE TABLE import_changes (
    org_id        text NOT NULL,
    import_id     text NOT NULL,
    seq           bigint NOT NULL,
    customer_id   text NOT NULL,
    version_after integer NOT NULL,
    before        text NOT NULL,
    PRIMARY KEY (org_id, import_id, seq),
    FOREIGN KEY (org_id, import_id) REFERENCES imports (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX import_changes_customer_idx ON import_changes (org_id, customer_id);
