-- Inquiries (sales opportunities, issue 19): a customer's request for an
-- offer, its pipeline status, planned completion day, handler and who may
-- see it, and its history of changes and comments. Visibility is applied
-- by the store to every read (see visibleTo in crm/store/inquiries.go).

CREATE TABLE inquiries (
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
    status          text NOT NULL CHECK (status IN ('new', 'in_progress', 'offer_sent', 'won', 'lost')),
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
-- Lists newest first: of a customer, of a handler, of what one may see.
CREATE INDEX inquiries_customer_idx ON inquiries (org_id, customer_id, id);
CREATE INDEX inquiries_handler_idx ON inquiries (org_id, handler_id, id);
CREATE INDEX inquiries_creator_idx ON inquiries (org_id, created_by, id);
CREATE INDEX inquiries_visible_idx ON inquiries (org_id, visibility, visible_to, id);
-- Reminders and the overdue flag: open inquiries by planned day.
CREATE INDEX inquiries_planned_idx ON inquiries (org_id, handler_id, planned_on) WHERE closed_at IS NULL;
CREATE INDEX inquiries_created_idx ON inquiries (org_id, created_at);

CREATE TABLE inquiry_events (
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
    CONSTRAINT inquiry_events_inquiry_fk FOREIGN KEY (org_id, inquiry_id) REFERENCES inquiries (org_id, id) ON DELETE CASCADE
);
CREATE INDEX inquiry_events_inquiry_idx ON inquiry_events (org_id, inquiry_id, at, id);
CREATE INDEX inquiry_events_customer_idx ON inquiry_events (org_id, customer_id);
