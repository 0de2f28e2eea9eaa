-- API keys: the credentials of the HTTP API. Only the SHA-256 hash of a
-- secret is stored; the hash is unique across organisations because a
-- request is matched to its organisation by it.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    org_id       text NOT NULL REFERENCES organisations (id),
    name         text NOT NULL,
    staff_user   text NOT NULL,
    prefix       text NOT NULL,
    secret_hash  text NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at);
