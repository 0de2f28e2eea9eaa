-- The statuses organisations add to the inquiry pipeline (issue 19), each
-- open, won or lost (kind). The built-in statuses (new, in_progress,
-- offer_sent, won, lost) are not stored.

CREATE TABLE inquiry_statuses (
    org_id      text NOT NULL REFERENCES organisations (id),
    id          text NOT NULL,
    names       TEXT NOT NULL,
    kind        text NOT NULL,
    position    integer NOT NULL DEFAULT 0,
    archived_at TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    CONSTRAINT inquiry_statuses_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT inquiry_statuses_kind_check CHECK (kind IN ('open', 'won', 'lost'))
);

-- Inquiries take the organisation's own statuses too: the status column
-- loses its list of the built-in ones. SQLite cannot drop a CHECK
-- constraint, so both inquiry tables are made anew: the events' new table
-- refers to the inquiries' new one, whose renaming carries the reference
-- along (dropping the old inquiries first would cascade to the events).
CREATE TABLE inquiries_new (
    org_id          text NOT NULL,
    id              TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    title           text NOT NULL DEFAULT '',
    destination     text NOT NULL DEFAULT '',
    period          text NOT NULL DEFAULT '',
    duration        integer NOT NULL DEFAULT 0,
    budget_amount   INTEGER,
    budget_currency text NOT NULL DEFAULT '',
    travellers      integer NOT NULL DEFAULT 0,
    board           text NOT NULL DEFAULT '',
    notes           text NOT NULL DEFAULT '',
    fields          TEXT,
    -- Title and destination as a search key (lower case, no accents).
    search_text     text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status <> ''),
    planned_on      TEXT,
    handler_id      text NOT NULL,
    visibility      text NOT NULL CHECK (visibility IN ('me', 'department', 'person', 'company')),
    -- The department or staff user of those visibilities; '' otherwise.
    visible_to      text NOT NULL DEFAULT '',
    created_by      text NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    closed_at       TIMESTAMP,
    version         integer NOT NULL,
    CONSTRAINT inquiries_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT inquiries_customer_fk FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    CONSTRAINT inquiries_handler_fk FOREIGN KEY (org_id, handler_id) REFERENCES staff_users (org_id, id)
);
INSERT INTO inquiries_new (org_id, id, customer_id, title, destination, period, duration, budget_amount, budget_currency, travellers, board, notes, fields, search_text, status, planned_on, handler_id, visibility, visible_to, created_by, created_at, updated_at, closed_at, version)
SELECT org_id, id, customer_id, title, destination, period, duration, budget_amount, budget_currency, travellers, board, notes, fields, search_text, status, planned_on, handler_id, visibility, visible_to, created_by, created_at, updated_at, closed_at, version FROM inquiries;
CREATE TABLE inquiry_events_new (
    org_id      text NOT NULL,
    id          TEXT NOT NULL,
    inquiry_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('created', 'changed', 'comment')),
    actor_kind  text NOT NULL,
    actor_id    text NOT NULL DEFAULT '',
    at          TIMESTAMP NOT NULL,
    changes     TEXT,
    comment     text NOT NULL DEFAULT '',
    CONSTRAINT inquiry_events_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT inquiry_events_inquiry_fk FOREIGN KEY (org_id, inquiry_id) REFERENCES inquiries_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO inquiry_events_new (org_id, id, inquiry_id, customer_id, kind, actor_kind, actor_id, at, changes, comment)
SELECT org_id, id, inquiry_id, customer_id, kind, actor_kind, actor_id, at, changes, comment FROM inquiry_events;
DROP TABLE inquiry_events;
DROP TABLE inquiries;
ALTER TABLE inquiries_new RENAME TO inquiries;
ALTER TABLE inquiry_events_new RENAME TO inquiry_events;
CREATE INDEX inquiries_customer_idx ON inquiries (org_id, customer_id, id);
CREATE INDEX inquiries_handler_idx ON inquiries (org_id, handler_id, id);
CREATE INDEX inquiries_creator_idx ON inquiries (org_id, created_by, id);
CREATE INDEX inquiries_visible_idx ON inquiries (org_id, visibility, visible_to, id);
-- Reminders and the overdue flag: open inquiries by planned day.
CREATE INDEX inquiries_planned_idx ON inquiries (org_id, handler_id, planned_on) WHERE closed_at IS NULL;
CREATE INDEX inquiries_created_idx ON inquiries (org_id, created_at);

CREATE INDEX inquiry_events_inquiry_idx ON inquiry_events (org_id, inquiry_id, at, id);
CREATE INDEX inquiry_events_customer_idx ON inquiry_events (org_id, customer_id);
