-- Ranks are never reused (docs/DECISIONS.md, "Register rules"; 民法典第四百一十四条):
-- a new mortgage ranks above every mortgage ever registered on the unit,
-- cancelled ones included, so the registration reads max(rank) over all of
-- the unit's rows, not only the current ones that mortgage_units_rank covers.
-- This index serves that read. It is not unique: rows written before the
-- rule was enforced may already repeat a cancelled rank; mortgage_units_rank
-- still keeps the current ranks unique (PROMISES S5).
CREATE INDEX mortgage_units_unit_rank ON mortgage_units (unit_number, rank);
