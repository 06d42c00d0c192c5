-- 0013: each event's payload carries its media type, written with it by
-- the encoder of the partner's format, so the push and the pull no longer
-- guess JSON or XML from the payload's first byte.
ALTER TABLE events ADD COLUMN media_type text NOT NULL DEFAULT 'application/json';
-- Events written before this migration: the old rule, once.
UPDATE events SET media_type = 'application/xml' WHERE substring(payload FROM 1 FOR 1) = '\x3c'::bytea;
