-- Bookings and orders (C10): Dossier's summary of what the booking
-- platform owns, keyed by the platform's reference. list_day is the start
-- day, else the registration day: the day a booking is listed under.
-- customer_number copies the lead customer's number so that booking
-- filters yield customer numbers, the order of list pages. next_due_on is
-- the due day of the first payment not paid in full (NULL when none, or
-- when cancelled or deleted): the payments worklist reads one index range.

CREATE TABLE bookings (
    org_id              text NOT NULL,
    id                  uuid NOT NULL,
    reference           text NOT NULL,
    customer_id         uuid NOT NULL,
    customer_number     bigint NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('booking', 'order', 'reservation', 'appointment')),
    status              text NOT NULL CHECK (status IN ('option', 'reserved', 'confirmed', 'sold', 'cancelled', 'deleted')),
    platform_status     text NOT NULL DEFAULT '',
    channel             text NOT NULL DEFAULT '',
    registered_on       date NOT NULL,
    starts_on           date,
    starts_at           timestamptz,
    ends_on             date,
    ends_at             timestamptz,
    list_day            date NOT NULL,
    destination_country text NOT NULL DEFAULT '',
    destination_place   text NOT NULL DEFAULT '',
    place_key           text NOT NULL DEFAULT '',
    venue               text NOT NULL DEFAULT '',
    description         text NOT NULL DEFAULT '',
    booking_lines       jsonb,
    labels              jsonb,
    participants        jsonb,
    total               bigint NOT NULL,
    currency            text NOT NULL,
    invoiced            boolean NOT NULL DEFAULT false,
    invoice_number      text NOT NULL DEFAULT '',
    deposit_due         date,
    deposit_amount      bigint,
    deposit_paid        bigint,
    final_due           date,
    final_amount        bigint,
    final_paid          bigint,
    next_due_on         date,
    link                text NOT NULL DEFAULT '',
    source_version      bigint NOT NULL DEFAULT 0,
    source_updated_at   timestamptz,
    informed_at         timestamptz,
    informed_by_kind    text,
    informed_by_id      text,
    last_reminder_at    timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    row_version         integer NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    CONSTRAINT bookings_reference_uq UNIQUE (org_id, reference),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
-- The customer's bookings, newest day first.
CREATE INDEX bookings_customer_idx ON bookings (org_id, customer_id, list_day, id);
-- Number of bookings and the last one, per customer number.
CREATE INDEX bookings_number_idx ON bookings (org_id, customer_number, status, registered_on);
-- Destination + departure (+ value): covering, so that the filter reads the index alone.
CREATE INDEX bookings_destination_idx ON bookings (org_id, destination_country, starts_on, currency, total, status, customer_number);
-- Departures worklist and departure filters.
CREATE INDEX bookings_departure_idx ON bookings (org_id, starts_on, id);
-- Payments worklist.
CREATE INDEX bookings_due_idx ON bookings (org_id, next_due_on, id) WHERE next_due_on IS NOT NULL;

CREATE TABLE booking_reminders (
    org_id     text NOT NULL,
    id         uuid NOT NULL,
    booking_id uuid NOT NULL,
    channel    text NOT NULL,
    payment    text NOT NULL DEFAULT '',
    missing    bigint NOT NULL DEFAULT 0,
    note       text NOT NULL DEFAULT '',
    actor_kind text NOT NULL,
    actor_id   text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, booking_id) REFERENCES bookings (org_id, id) ON DELETE CASCADE
);
CREATE INDEX booking_reminders_booking_idx ON booking_reminders (org_id, booking_id, at);

-- An organisation's booking rules: its time zone and how its own
-- statuses map onto Dossier's.
CREATE TABLE booking_settings (
    org_id     text PRIMARY KEY REFERENCES organisations (id),
    time_zone  text NOT NULL DEFAULT '',
    status_map jsonb,
    updated_at timestamptz NOT NULL
);

-- A benefit use says where the benefit was used (box office, online).
ALTER TABLE benefit_uses ADD COLUMN channel text NOT NULL DEFAULT '';
