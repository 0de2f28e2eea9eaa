-- Segments: named customer filters, stored as the JSON of crm.CustomerFilter.
CREATE TABLE segments (
    id         TEXT PRIMARY KEY,
    org_id     text NOT NULL REFERENCES organisations (id),
    name       text NOT NULL,
    name_key   text NOT NULL,
    filter     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT segments_name_uq UNIQUE (org_id, name_key)
);
