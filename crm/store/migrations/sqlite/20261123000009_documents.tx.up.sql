-- Documents per customer (C6). Their contents live in the blob store under
-- the organisation and their SHA-256; blob_refs counts the documents that
-- share them, so the last deletion removes the file.

CREATE TABLE document_attributes (
    id         TEXT PRIMARY KEY,
    org_id     text NOT NULL REFERENCES organisations (id),
    name       text NOT NULL,
    name_key   text NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT document_attributes_name_uq UNIQUE (org_id, name_key),
    CONSTRAINT document_attributes_org_id_uq UNIQUE (org_id, id)
);

CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    org_id       text NOT NULL,
    customer_id  TEXT NOT NULL,
    title        text NOT NULL,
    file_name    text NOT NULL,
    content_type text NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    sha256       text NOT NULL,
    visibility   text NOT NULL CHECK (visibility IN ('portal', 'internal')),
    attribute_id TEXT,
    origin       text NOT NULL,
    actor_kind   text NOT NULL,
    actor_id     text NOT NULL DEFAULT '',
    added_at     TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, attribute_id) REFERENCES document_attributes (org_id, id)
);
CREATE INDEX documents_customer_idx ON documents (org_id, customer_id, added_at);
-- The automatic action: unsent documents of an attribute, oldest first.
CREATE INDEX documents_unsent_idx ON documents (org_id, attribute_id, id) WHERE sent_at IS NULL;

CREATE TABLE blob_refs (
    org_id text NOT NULL REFERENCES organisations (id),
    sha256 text NOT NULL,
    size   INTEGER NOT NULL,
    refs   integer NOT NULL CHECK (refs >= 0),
    PRIMARY KEY (org_id, sha256)
);
