-- The statuses organisations add to the inquiry pipeline (issue 19), each
-- open, won or lost (kind). The built-in statuses (new, in_progress,
-- offer_sent, won, lost) are not stored.

CREATE TABLE inquiry_statuses (
    org_id      text NOT NULL REFERENCES organisations (id),
    id          text NOT NULL,
    names       jsonb NOT NULL,
    kind        text NOT NULL,
    position    integer NOT NULL DEFAULT 0,
    archived_at timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT inquiry_statuses_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT inquiry_statuses_kind_check CHECK (kind IN ('open', 'won', 'lost'))
);

-- Inquiries take the organisation's own statuses too: the status column
-- loses its list of the built-in ones.
ALTER TABLE inquiries DROP CONSTRAINT inquiries_status_check;
ALTER TABLE inquiries ADD CONSTRAINT inquiries_status_check CHECK (status <> '');
