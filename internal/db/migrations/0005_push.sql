-- The push and the pull API of the outbox.

-- The pull API reads a partner's events in (xid, seq) order from a cursor:
-- an event is visible once its transaction is older than every running one,
-- so ordering by transaction first never lets a late commit fall behind a
-- cursor already handed out (sync/outbox).
CREATE INDEX events_partner_xid_seq ON events (partner_id, xid, seq);

-- Dead letters, for the supervisors' list and redelivery.
CREATE INDEX events_dead ON events (partner_id, seq) WHERE status = 'dead';
