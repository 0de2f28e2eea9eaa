-- Every primary key, unique key and foreign key includes org_id, so that the
-- schema can be distributed by organisation (Citus, distribution column
-- org_id; docs/scaling.md). The tables whose primary key is id alone get
-- (org_id, id); where a unique (org_id, id) already served as the target of
-- foreign keys, the primary key takes its place (one index instead of two)
-- and the foreign keys that pointed at it are made again on the new key.
-- The tables and foreign keys are found in the catalogue, so that tables
-- added by earlier migrations of the same release are mended too.
DO $$
DECLARE
    tables text[];
    tbl    text;
    pkey   text;
    uq     text;
    fk     record;
    drops  text[];
    adds   text[];
    stmt   text;
BEGIN
    SELECT coalesce(array_agg(c.relname::text ORDER BY c.relname), '{}') INTO tables
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    WHERE k.contype = 'p' AND c.relnamespace = current_schema()::regnamespace
      AND k.conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = c.oid AND attname = 'id')]
      AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = c.oid AND attname = 'org_id' AND NOT attisdropped);
    FOREACH tbl IN ARRAY tables LOOP
        SELECT conname INTO pkey FROM pg_constraint WHERE conrelid = tbl::regclass AND contype = 'p';
        SELECT conname INTO uq FROM pg_constraint
        WHERE conrelid = tbl::regclass AND contype = 'u' AND cardinality(conkey) = 2
          AND conkey @> ARRAY[
              (SELECT attnum FROM pg_attribute WHERE attrelid = tbl::regclass AND attname = 'org_id'),
              (SELECT attnum FROM pg_attribute WHERE attrelid = tbl::regclass AND attname = 'id')];
        drops := '{}';
        adds := '{}';
        FOR fk IN
            SELECT conrelid::regclass AS child, conname, pg_get_constraintdef(oid) AS def
            FROM pg_constraint
            WHERE contype = 'f' AND confrelid = tbl::regclass
        LOOP
            drops := drops || format('ALTER TABLE %s DROP CONSTRAINT %I', fk.child, fk.conname);
            adds := adds || format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.child, fk.conname, fk.def);
        END LOOP;
        FOREACH stmt IN ARRAY drops LOOP
            EXECUTE stmt;
        END LOOP;
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, pkey);
        IF uq IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, uq);
        END IF;
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (org_id, id)', tbl, tbl || '_pkey');
        FOREACH stmt IN ARRAY adds LOOP
            EXECUTE stmt;
        END LOOP;
    END LOOP;
END
$$;

-- An API key's secret names its organisation (dsk_<org>.<random>), so a
-- request's key is found within one organisation. Keys issued before carry
-- no organisation: they are found by their hash alone, through an ordinary
-- index (on a distributed database that lookup asks every shard; revoke and
-- reissue such keys to avoid it).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_secret_hash_uq;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_secret_hash_uq UNIQUE (org_id, secret_hash);
CREATE INDEX api_keys_legacy_hash_idx ON api_keys (secret_hash);
