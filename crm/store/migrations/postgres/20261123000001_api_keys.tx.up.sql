-- API keys: the credentials of the HTTP API. Only the SHA-256 hash of a
-- secret is stored; the hash is unique across organisations because a
-- request is matched to its organisation by it.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    org_id       text NOT NULL REFERENCES organisations (id),
    name         text NOT NULL,
    staff_user   text NOT NULL,
    prefix       text NOT NULL,
    secret_hash  text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_keys_secret_hash_uq UNIQUE (secret_hash)
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at);
