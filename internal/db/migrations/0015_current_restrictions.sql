-- What stands on a unit today, defined once (issue 9): a seizure not lifted
-- and not run out, an objection not cancelled and not expired, a
-- pre-registration not ended. The registration checks, the encumbrance
-- query, the console's register excerpt and the load benchmark all read
-- these functions instead of restating the conditions.
--
-- "Today" is the business date (Asia/Shanghai, the service's clock), which
-- the caller passes: a view could only use the database's CURRENT_DATE.
-- Each function is one STABLE SQL SELECT, so the planner inlines it into
-- the calling query and a unit_number = ANY($1) condition still reaches the
-- per-table unit index (checked with EXPLAIN in mortgage/restrictions_test.go).

CREATE FUNCTION current_seizures(on_day date) RETURNS SETOF seizures
    LANGUAGE sql STABLE AS $$
    SELECT * FROM seizures
     WHERE lifted_at IS NULL AND (seized_until IS NULL OR seized_until >= on_day)
$$;

CREATE FUNCTION current_objections(on_day date) RETURNS SETOF objections
    LANGUAGE sql STABLE AS $$
    SELECT * FROM objections
     WHERE cancelled_at IS NULL AND (expires_on IS NULL OR expires_on >= on_day)
$$;

-- on_day is unused today (a pre-registration has no end date of its own)
-- but kept so every restriction is asked for the same way.
CREATE FUNCTION current_preregistrations(on_day date) RETURNS SETOF preregistrations
    LANGUAGE sql STABLE AS $$
    SELECT * FROM preregistrations WHERE ended_at IS NULL
$$;

-- Every current restriction, one row each: kind is seizure, objection or
-- preregistration; holder_id_number is the pre-registration's holder (a
-- mortgage for the holder of a pre-registration is allowed), '' otherwise.
CREATE FUNCTION current_restrictions(on_day date)
    RETURNS TABLE (unit_number char(28), kind text, holder_id_number text)
    LANGUAGE sql STABLE AS $$
    SELECT unit_number, 'seizure', '' FROM current_seizures(on_day)
    UNION ALL
    SELECT unit_number, 'objection', '' FROM current_objections(on_day)
    UNION ALL
    SELECT unit_number, 'preregistration', holder_id_number FROM current_preregistrations(on_day)
$$;
