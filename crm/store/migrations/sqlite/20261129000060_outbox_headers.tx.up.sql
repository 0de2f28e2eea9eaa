-- Extra headers of a queued mail: a mailing's List-Unsubscribe and
-- List-Unsubscribe-Post (RFC 2369, RFC 8058). Like the text, they carry
-- the unsubscribe link's secret until delivery, then it is replaced.
ALTER TABLE outbox ADD COLUMN headers TEXT;
