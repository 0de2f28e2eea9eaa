-- match_lock takes the transaction-level advisory locks of a match
-- (crm/store/match.go, pgMatchLock), one per name, in the order given.
-- A procedure because CALL answers with no rows: the store can send the
-- call in front of the match itself, in one message, instead of a round
-- trip of its own (crm/store/conn.go, "Pipelining"), which a SELECT of
-- pg_advisory_xact_lock, answering with a row, would not allow.
CREATE PROCEDURE match_lock(names text[])
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('dossier.match ' || n.name, 0))
    FROM unnest(names) WITH ORDINALITY AS n(name, position)
    ORDER BY n.position;
END
$$;
