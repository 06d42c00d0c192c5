-- Two registrations can be the first of a new year at the same moment: both
-- find no sequence for the year and both create it. The second's CREATE then
-- fails on the catalog's unique index (it waited for the first to commit),
-- so it is caught, and the number comes from the sequence the first made.
CREATE OR REPLACE FUNCTION next_certificate_serial(year int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    seq text := format('certificate_serial_%s', year);
BEGIN
    IF to_regclass(seq) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL; -- created by a concurrent first registration of the year
        END;
    END IF;
    RETURN nextval(seq::regclass);
END $$;
