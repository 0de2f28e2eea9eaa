-- Staff users, departments and the organisation's permission switches
-- (issue 19); see the PostgreSQL file for the why. SQLite cannot add a
-- foreign key to a table, so api_keys is rebuilt with it (nothing refers
-- to api_keys).

ALTER TABLE organisations ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
ALTER TABLE organisations ADD COLUMN staff_may_export INTEGER NOT NULL DEFAULT 1;
ALTER TABLE organisations ADD COLUMN staff_may_anonymise INTEGER NOT NULL DEFAULT 1;
ALTER TABLE organisations ADD COLUMN customers_may_export INTEGER NOT NULL DEFAULT 1;
ALTER TABLE organisations ADD COLUMN customers_may_anonymise INTEGER NOT NULL DEFAULT 0;

CREATE TABLE departments (
    org_id     text NOT NULL REFERENCES organisations (id),
    id         text NOT NULL,
    name       text NOT NULL,
    name_key   text NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT departments_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT departments_name_uq UNIQUE (org_id, name_key)
);

CREATE TABLE staff_users (
    org_id     text NOT NULL REFERENCES organisations (id),
    id         text NOT NULL,
    name       text NOT NULL,
    email      text NOT NULL DEFAULT '',
    email_key  text,
    language   text NOT NULL,
    time_zone  text NOT NULL DEFAULT '',
    role       text NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version    integer NOT NULL DEFAULT 1,
    CONSTRAINT staff_users_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT staff_users_email_uq UNIQUE (org_id, email_key),
    CONSTRAINT staff_users_role_ck CHECK (role IN ('administrator', 'staff', 'read-only'))
);

CREATE TABLE staff_departments (
    org_id        text NOT NULL,
    staff_id      text NOT NULL,
    department_id text NOT NULL,
    CONSTRAINT staff_departments_pkey PRIMARY KEY (org_id, staff_id, department_id),
    CONSTRAINT staff_departments_staff_fk FOREIGN KEY (org_id, staff_id) REFERENCES staff_users (org_id, id) ON DELETE CASCADE,
    CONSTRAINT staff_departments_department_fk FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id) ON DELETE CASCADE
);
CREATE INDEX staff_departments_department_idx ON staff_departments (org_id, department_id);

INSERT INTO staff_users (org_id, id, name, language, role, active, created_at, updated_at)
SELECT k.org_id, k.staff_user, k.staff_user, o.default_language, 'administrator', 1, min(k.created_at), min(k.created_at)
FROM api_keys k JOIN organisations o ON o.id = k.org_id
GROUP BY k.org_id, k.staff_user, o.default_language;

INSERT INTO staff_users (org_id, id, name, language, role, active, created_at, updated_at)
SELECT h.org_id, h.actor_id, h.actor_id, o.default_language, 'staff', 0, min(h.at), min(h.at)
FROM history_events h JOIN organisations o ON o.id = h.org_id
WHERE h.actor_kind = 'staff' AND h.actor_id <> ''
  AND NOT EXISTS (SELECT 1 FROM staff_users s WHERE s.org_id = h.org_id AND s.id = h.actor_id)
GROUP BY h.org_id, h.actor_id, o.default_language;

CREATE TABLE api_keys_new (
    id           TEXT NOT NULL,
    org_id       text NOT NULL REFERENCES organisations (id),
    name         text NOT NULL,
    staff_user   text NOT NULL,
    prefix       text NOT NULL,
    secret_hash  text NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP,
    CONSTRAINT api_keys_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT api_keys_secret_hash_uq UNIQUE (org_id, secret_hash),
    CONSTRAINT api_keys_staff_fk FOREIGN KEY (org_id, staff_user) REFERENCES staff_users (org_id, id)
);
INSERT INTO api_keys_new (id, org_id, name, staff_user, prefix, secret_hash, created_at, last_used_at, revoked_at)
SELECT id, org_id, name, staff_user, prefix, secret_hash, created_at, last_used_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at);
CREATE INDEX api_keys_legacy_hash_idx ON api_keys (secret_hash);
CREATE INDEX api_keys_staff_idx ON api_keys (org_id, staff_user);
