-- Issue 8: the mortgagee is the submitting partner; a batch record registers
-- once; certificate serials without unexplained gaps.

-- The mortgagee identities (name and credit code) a partner may register
-- mortgages under: its own, always, and its branches', listed by the
-- administrator (mortgaged partner mortgagee). A trigger keeps the own one
-- in step with partners, however the partner row was written.
CREATE TABLE partner_mortgagees (
    partner_id   text NOT NULL REFERENCES partners ON DELETE CASCADE,
    credit_code  text NOT NULL,
    name         text NOT NULL CHECK (btrim(name) <> ''),
    own          boolean NOT NULL DEFAULT false,   -- the partner's own name and code: not removable
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, credit_code)
);
CREATE UNIQUE INDEX partner_mortgagees_own ON partner_mortgagees (partner_id) WHERE own;

INSERT INTO partner_mortgagees (partner_id, credit_code, name, own)
SELECT id, btrim(credit_code), btrim(name), true FROM partners;

CREATE FUNCTION partner_own_mortgagee() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM partner_mortgagees WHERE partner_id = NEW.id AND own;
    INSERT INTO partner_mortgagees (partner_id, credit_code, name, own)
    VALUES (NEW.id, btrim(NEW.credit_code), btrim(NEW.name), true)
    ON CONFLICT (partner_id, credit_code) DO UPDATE SET name = EXCLUDED.name, own = true;
    RETURN NULL;
END $$;
CREATE TRIGGER partners_own_mortgagee AFTER INSERT OR UPDATE OF name, credit_code ON partners
    FOR EACH ROW EXECUTE FUNCTION partner_own_mortgagee();

-- A batch record's bundle is filed under <batch number>#<n>; the partner's
-- own reference for the record (YWH) is kept beside it, unique per partner
-- like a single bundle's reference, so the same record in another batch is
-- answered with its first decision instead of registering again.
ALTER TABLE bundles ADD COLUMN record_reference text;

-- Records registered before this migration: the first bundle of each YWH
-- takes it; a record already registered twice keeps its second bundle, but
-- the reference now answers with the first.
UPDATE bundles b SET record_reference = f.reference
FROM (SELECT DISTINCT ON (bt.partner_id, r.reference) r.bundle_id, r.reference
      FROM batch_records r JOIN batches bt ON bt.id = r.batch_id JOIN bundles x ON x.id = r.bundle_id
      WHERE r.bundle_id IS NOT NULL AND r.reference <> ''
      ORDER BY bt.partner_id, r.reference, x.received_at, x.id) f
WHERE b.id = f.bundle_id;

CREATE UNIQUE INDEX bundles_partner_record_reference ON bundles (partner_id, record_reference)
    WHERE record_reference IS NOT NULL;

-- The same record in a later batch is answered with its first bundle: a
-- bundle may now stand behind several records.
ALTER TABLE batch_records DROP CONSTRAINT batch_records_bundle_id_key;
CREATE INDEX batch_records_bundle ON batch_records (bundle_id);

-- Certificate serials come from a sequence per authority and year. nextval
-- never waits for another transaction, so registrations do not queue on a
-- counter row through each other's commits (a counter row cost about half
-- the node's throughput: docs/BENCHMARKS.md). A sequence does not take a
-- number back when the transaction that drew it rolls back, so every number
-- that reaches no certificate is recorded in certificate_serial_gaps with its
-- reason: the transaction rolled back (written by the server as it rolls
-- back), or it never committed because a process or the database stopped
-- (found by reconciliation, which waits for every transaction older than its
-- look at the sequence to end). Every number of a year is on a certificate or
-- explained (DECISIONS.md, Numbers). authority is the configured
-- registration authority (issue 10 will add others); its name is
-- configuration, which a migration cannot read, so a year's sequence is made,
-- and seeded from the certificates already in the register, by the first
-- draw of its authority and year.
CREATE TABLE certificate_serials (
    authority        text NOT NULL,
    year             int NOT NULL,
    sequence_name    text NOT NULL UNIQUE,
    -- serials up to here are on a certificate or in certificate_serial_gaps
    reconciled_upto  bigint NOT NULL CHECK (reconciled_upto >= 0),
    PRIMARY KEY (authority, year)
);

CREATE TABLE certificate_serial_gaps (
    authority    text NOT NULL,
    year         int NOT NULL,
    serial       bigint NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('rolled_back', 'not_committed')),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority, year, serial)
);

-- certificate_serial_floor is the highest serial of a year among the
-- certificates already in the register (issued or imported): a new
-- sequence starts after it.
CREATE FUNCTION certificate_serial_floor(year int) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(max(substring(certificate_number FROM '第([0-9]+)号$')::bigint), 0)
    FROM mortgages  -- imported numbers may have full-width brackets
    WHERE certificate_number ~ ('^[^(（]*[(（]' || year || '[)）].*不动产证明第[0-9]+号$')
$$;

-- certificate_serial_sequence finds, or makes, the sequence of the
-- authority's year. The server makes it in a transaction of its own before
-- a registration can draw from it: a sequence made inside a registration
-- that then rolls back would vanish with the numbers drawn from it, and a
-- concurrent registration would draw them again. Two first calls at once:
-- the second's CREATE waits for the first to commit, fails on the catalog's
-- unique index, and the sequence the first made is used.
CREATE FUNCTION certificate_serial_sequence(of_authority text, of_year int) RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    seq text;
    floor bigint;
BEGIN
    SELECT sequence_name INTO seq FROM certificate_serials WHERE authority = of_authority AND year = of_year;
    IF NOT FOUND THEN
        seq := format('certificate_serial_%s_%s', of_year, left(md5(of_authority), 12));
        BEGIN
            EXECUTE format('CREATE SEQUENCE %I MINVALUE 1', seq);
            floor := certificate_serial_floor(of_year);
            PERFORM setval(seq::regclass, floor + 1, false);
            INSERT INTO certificate_serials (authority, year, sequence_name, reconciled_upto)
            VALUES (of_authority, of_year, seq, floor);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL; -- made by a concurrent first call for the year
        END;
    END IF;
    RETURN seq::regclass;
END $$;

-- next_certificate_serial draws the next serial of the authority's year.
CREATE FUNCTION next_certificate_serial(of_authority text, of_year int) RETURNS bigint
LANGUAGE sql AS $$
    SELECT nextval(certificate_serial_sequence(of_authority, of_year))
$$;

-- advance_certificate_serials moves a year's sequences past serials loaded
-- from the system of record (register import): they are never drawn again,
-- and numbers up to there are the system of record's, not gaps.
CREATE FUNCTION advance_certificate_serials(of_year int, past bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    last bigint;
BEGIN
    FOR r IN SELECT authority, sequence_name FROM certificate_serials WHERE year = of_year FOR UPDATE LOOP
        SELECT COALESCE(s.last_value, 0) INTO last FROM pg_sequences s
        WHERE s.schemaname = current_schema() AND s.sequencename = r.sequence_name;
        IF last < past THEN
            PERFORM setval(r.sequence_name::regclass, past);
        END IF;
        UPDATE certificate_serials SET reconciled_upto = greatest(reconciled_upto, past)
        WHERE authority = r.authority AND year = of_year;
    END LOOP;
END $$;

-- The old per-year sequences (one for every authority) are replaced by the
-- ones above; the numbers they gave that reached the register are what
-- certificate_serial_floor reads.
DROP FUNCTION next_certificate_serial(int);
DO $$
DECLARE
    seq text;
BEGIN
    FOR seq IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind = 'S' AND n.nspname = current_schema() AND c.relname ~ '^certificate_serial_[0-9]+$' LOOP
        EXECUTE format('DROP SEQUENCE %I', seq);
    END LOOP;
END $$;
