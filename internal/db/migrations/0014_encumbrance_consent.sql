-- Encumbrance queries cannot enumerate the register (PROMISES A7): a query
-- names the owner it is about and carries that owner's signed consent, kept
-- here with the query; each partner has a daily quota. The owner's identity
-- is kept in full because the centre audits whose consent was used; logs
-- and answers mask it.
ALTER TABLE partners ADD COLUMN encumbrance_quota int CHECK (encumbrance_quota >= 0); -- NULL: the centre's default

ALTER TABLE encumbrance_queries
    ALTER COLUMN consent_reference DROP NOT NULL,   -- queries before 0014 had only a reference
    ADD COLUMN owner_name      text,
    ADD COLUMN owner_id_type   text,
    ADD COLUMN owner_id_number text;

-- The consent document, exactly as received and verified against its SHA-256.
CREATE TABLE encumbrance_consents (
    query_id    text PRIMARY KEY REFERENCES encumbrance_queries,
    kind        text NOT NULL,
    file_name   text NOT NULL,
    media_type  text NOT NULL,
    sha256      bytea NOT NULL CHECK (length(sha256) = 32),
    content     bytea NOT NULL
);
