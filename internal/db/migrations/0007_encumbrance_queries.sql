-- Pre-loan encumbrance queries (抵押前查询): every query is recorded with
-- the owner's consent reference, so the centre can audit who looked at what.
CREATE TABLE encumbrance_queries (
    id                 text PRIMARY KEY,
    partner_id         text NOT NULL REFERENCES partners,
    unit_number        char(28) NOT NULL,
    consent_reference  text NOT NULL,
    found              boolean NOT NULL,
    queried_at         timestamptz NOT NULL
);
CREATE INDEX encumbrance_queries_partner ON encumbrance_queries (partner_id, queried_at DESC);
