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

-- Certificate serials come from a counter row per authority and year,
-- updated inside the registration transaction: a rollback returns the
-- number, so the serials of a year have no gaps. authority is the centre's
-- configured registration authority (issue 10 will add others). A row is
-- made, and seeded from the certificates already in the register, by the
-- first draw of its authority and year (next_certificate_serial): the
-- authority's name is configuration, which a migration cannot read.
CREATE TABLE certificate_serials (
    authority  text NOT NULL,
    year       int NOT NULL,
    last       bigint NOT NULL CHECK (last >= 0),
    PRIMARY KEY (authority, year)
);

-- certificate_serial_floor is the highest serial of a year among the
-- certificates already in the register (issued or imported): a new
-- counter row starts after it.
CREATE FUNCTION certificate_serial_floor(year int) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(max(substring(certificate_number FROM '第([0-9]+)号$')::bigint), 0)
    FROM mortgages  -- imported numbers may have full-width brackets
    WHERE certificate_number ~ ('^[^(（]*[(（]' || year || '[)）].*不动产证明第[0-9]+号$')
$$;

-- next_certificate_serial draws the next serial of the authority's year. The
-- counter row stays locked until the transaction ends, so callers draw as
-- late as they can. The first draw of a year seeds the row from the register.
CREATE FUNCTION next_certificate_serial(of_authority text, of_year int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    UPDATE certificate_serials SET last = last + 1
    WHERE authority = of_authority AND year = of_year
    RETURNING last INTO n;
    IF FOUND THEN
        RETURN n;
    END IF;
    INSERT INTO certificate_serials AS s (authority, year, last)
    VALUES (of_authority, of_year, certificate_serial_floor(of_year) + 1)
    ON CONFLICT (authority, year) DO UPDATE SET last = s.last + 1  -- a concurrent first draw of the year
    RETURNING s.last INTO n;
    RETURN n;
END $$;

-- The per-year sequences gave numbers that a rollback lost; nothing draws
-- from them any more. Their numbers that reached the register are what
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
