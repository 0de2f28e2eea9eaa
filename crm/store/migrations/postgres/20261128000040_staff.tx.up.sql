-- Staff users, departments and the organisation's permission switches
-- (issue 19). API keys, which named their staff user with a free string,
-- now belong to a staff user: one is made for every distinct name found on
-- a key (an administrator, as every key could do everything before) and
-- for every other staff actor of the timelines (inactive, role staff), so
-- that every recorded actor stays a real staff user.

ALTER TABLE organisations ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
ALTER TABLE organisations ADD COLUMN staff_may_export boolean NOT NULL DEFAULT true;
ALTER TABLE organisations ADD COLUMN staff_may_anonymise boolean NOT NULL DEFAULT true;
ALTER TABLE organisations ADD COLUMN customers_may_export boolean NOT NULL DEFAULT true;
ALTER TABLE organisations ADD COLUMN customers_may_anonymise boolean NOT NULL DEFAULT false;

CREATE TABLE departments (
    org_id     text NOT NULL REFERENCES organisations (id),
    id         text NOT NULL,
    name       text NOT NULL,
    name_key   text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
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
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
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
SELECT k.org_id, k.staff_user, k.staff_user, o.default_language, 'administrator', true, min(k.created_at), min(k.created_at)
FROM api_keys k JOIN organisations o ON o.id = k.org_id
GROUP BY k.org_id, k.staff_user, o.default_language;

INSERT INTO staff_users (org_id, id, name, language, role, active, created_at, updated_at)
SELECT h.org_id, h.actor_id, h.actor_id, o.default_language, 'staff', false, min(h.at), min(h.at)
FROM history_events h JOIN organisations o ON o.id = h.org_id
WHERE h.actor_kind = 'staff' AND h.actor_id <> ''
  AND NOT EXISTS (SELECT 1 FROM staff_users s WHERE s.org_id = h.org_id AND s.id = h.actor_id)
GROUP BY h.org_id, h.actor_id, o.default_language;

ALTER TABLE api_keys ADD CONSTRAINT api_keys_staff_fk FOREIGN KEY (org_id, staff_user) REFERENCES staff_users (org_id, id);
CREATE INDEX api_keys_staff_idx ON api_keys (org_id, staff_user);
