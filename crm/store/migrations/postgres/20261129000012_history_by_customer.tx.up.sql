-- History events keyed by (org_id, customer_id, at, id), the timeline's
-- order: the primary key is the index a timeline is read by, instead of a
-- key on (org_id, id) that no query reads beside the timeline index (about
-- 40 bytes less per event). Event ids stay unique (UUIDv7); every
-- statement on an event names its customer. The SQLite counterpart keeps
-- the events in the key's order (WITHOUT ROWID).
ALTER TABLE history_events DROP CONSTRAINT history_events_pkey;
ALTER TABLE history_events ADD CONSTRAINT history_events_pkey PRIMARY KEY (org_id, customer_id, at, id);
DROP INDEX history_events_timeline_idx;
