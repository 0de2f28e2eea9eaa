-- Notes of typed events on a customer's timeline, their types, and tasks
-- (reminders) with a due date, an owner and a status (issue 19).
-- booking_id refers to a booking of the platform; it has no foreign key
-- until bookings are kept in this schema.

CREATE TABLE note_types (
    org_id      text NOT NULL REFERENCES organisations (id),
    id          text NOT NULL,
    names       TEXT NOT NULL,
    built_in    INTEGER NOT NULL DEFAULT 0,
    position    integer NOT NULL DEFAULT 0,
    archived_at TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    CONSTRAINT note_types_pkey PRIMARY KEY (org_id, id)
);

CREATE TABLE notes (
    org_id      text NOT NULL,
    id          text NOT NULL,
    customer_id text NOT NULL,
    booking_id  text,
    type_id     text NOT NULL,
    text        text NOT NULL,
    at          TIMESTAMP NOT NULL,
    author_id   text NOT NULL,
    pinned      INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    CONSTRAINT notes_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT notes_customer_fk FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    CONSTRAINT notes_type_fk FOREIGN KEY (org_id, type_id) REFERENCES note_types (org_id, id),
    CONSTRAINT notes_author_fk FOREIGN KEY (org_id, author_id) REFERENCES staff_users (org_id, id)
);
CREATE INDEX notes_customer_idx ON notes (org_id, customer_id, at DESC, id DESC);

CREATE TABLE tasks (
    org_id       text NOT NULL,
    id           text NOT NULL,
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    due_on       text NOT NULL,
    due_time     text,
    owner_id     text NOT NULL,
    creator_id   text NOT NULL,
    status       text NOT NULL,
    customer_id  text,
    booking_id   text,
    done_at      TIMESTAMP,
    done_by      text,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    CONSTRAINT tasks_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT tasks_status_ck CHECK (status IN ('open', 'done')),
    CONSTRAINT tasks_customer_fk FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    CONSTRAINT tasks_owner_fk FOREIGN KEY (org_id, owner_id) REFERENCES staff_users (org_id, id),
    CONSTRAINT tasks_creator_fk FOREIGN KEY (org_id, creator_id) REFERENCES staff_users (org_id, id)
);
-- "My reminders": an owner's open tasks up to a day, by due date.
CREATE INDEX tasks_owner_open_idx ON tasks (org_id, owner_id, due_on, id) WHERE status = 'open';
CREATE INDEX tasks_owner_idx ON tasks (org_id, owner_id, status, due_on, id);
CREATE INDEX tasks_customer_idx ON tasks (org_id, customer_id, due_on);
CREATE INDEX tasks_due_idx ON tasks (org_id, due_on);

-- The built-in note types of the organisations that exist (new ones get
-- them from crm.OrganisationService.Create).
INSERT INTO note_types (org_id, id, names, built_in, position, created_at, updated_at)
SELECT o.id, t.id, t.names, 1, t.position, o.created_at, o.created_at
FROM organisations o, (
    SELECT 'phone_call' AS id, '{"de":"Telefonat","en":"Phone call","nl":"Telefoongesprek","pl":"Rozmowa telefoniczna"}' AS names, 1 AS position
    UNION ALL SELECT 'email', '{"de":"E-Mail","en":"E-mail","nl":"E-mail","pl":"E-mail"}', 2
    UNION ALL SELECT 'visit', '{"de":"Besuch","en":"Visit","nl":"Bezoek","pl":"Wizyta"}', 3
    UNION ALL SELECT 'complaint', '{"de":"Beschwerde","en":"Complaint","nl":"Klacht","pl":"Reklamacja"}', 4
    UNION ALL SELECT 'catalogue_sent', '{"de":"Katalog verschickt","en":"Catalogue sent","nl":"Brochure verstuurd","pl":"Wysłano katalog"}', 5
    UNION ALL SELECT 'payment_reminder', '{"de":"Zahlungserinnerung","en":"Payment reminder","nl":"Betalingsherinnering","pl":"Przypomnienie o płatności"}', 6
) t;
