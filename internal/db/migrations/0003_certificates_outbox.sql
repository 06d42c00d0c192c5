-- Electronic registration certificates, the keys that sign them, and the
-- outbox of events for partners with its delivery log.

-- Ed25519 signing keys. The private key is sealed (AES-256-GCM) under the
-- node's master key; public keys stay published after a key is retired so
-- old certificates keep verifying.
CREATE TABLE signing_keys (
    key_id        text PRIMARY KEY,
    algorithm     text NOT NULL DEFAULT 'Ed25519' CHECK (algorithm = 'Ed25519'),
    public_key    bytea NOT NULL,
    private_sealed bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    retired_at    timestamptz
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_active ON signing_keys ((true)) WHERE retired_at IS NULL;

-- An issued electronic certificate (不动产登记证明): the exact bytes issued,
-- in JSON and in XML, each with a detached signature.
CREATE TABLE certificates (
    number            text PRIMARY KEY,
    bundle_id         text NOT NULL UNIQUE REFERENCES bundles,
    mortgage_id       bigint NOT NULL REFERENCES mortgages,
    partner_id        text NOT NULL REFERENCES partners,
    verification_code text NOT NULL,
    status            text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'cancelled')),
    issued_at         timestamptz NOT NULL,
    cancelled_at      timestamptz,
    key_id            text NOT NULL REFERENCES signing_keys,
    json_document     bytea NOT NULL,
    json_signature    bytea NOT NULL,
    xml_document      bytea NOT NULL,
    xml_signature     bytea NOT NULL
);
CREATE INDEX certificates_mortgage ON certificates (mortgage_id);

-- How and when each partner hears from us.
ALTER TABLE partners
    ADD COLUMN callback_url   text,
    ADD COLUMN push_schedule  text NOT NULL DEFAULT '@every 1m', -- cron expression or @every <duration>
    ADD COLUMN push_mode      text NOT NULL DEFAULT 'each' CHECK (push_mode IN ('each', 'batch')),
    ADD COLUMN push_enabled   boolean NOT NULL DEFAULT true,
    ADD COLUMN webhook_secret_sealed bytea;

-- The outbox: written in the transaction that causes the event (PROMISES D1).
-- Delivery claims rows by status with FOR UPDATE SKIP LOCKED (D5); seq and
-- xid order the pull API without skipping rows that commit out of order.
CREATE TABLE events (
    id              text PRIMARY KEY,
    seq             bigserial NOT NULL UNIQUE,
    xid             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    partner_id      text NOT NULL REFERENCES partners,
    type            text NOT NULL,
    subject         text NOT NULL,               -- bundle id or certificate number
    occurred_at     timestamptz NOT NULL,
    payload         bytea NOT NULL,              -- the exact event JSON pushed and pulled
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    claimed_by      text,
    claimed_until   timestamptz,
    delivered_at    timestamptz,
    acked_at        timestamptz,
    last_error      text
);
CREATE INDEX events_due ON events (partner_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX events_partner_seq ON events (partner_id, seq);

-- One row per delivery attempt: what was sent, by which node, and the answer.
CREATE TABLE deliveries (
    event_id     text NOT NULL REFERENCES events,
    attempt      int NOT NULL,
    node         text NOT NULL,
    started_at   timestamptz NOT NULL,
    status_code  int,
    error        text,
    duration_ms  int NOT NULL,
    PRIMARY KEY (event_id, attempt)
);
