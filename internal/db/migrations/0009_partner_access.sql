-- Partner access for issue 4: the format a partner speaks, its limits,
-- key rotation with an overlap, one-time request nonces, and optional
-- client certificates for mutual TLS.
ALTER TABLE partners
    ADD COLUMN format          text NOT NULL DEFAULT 'centre-json-v1', -- centre-json-v1, centre-xml-v1, a bank dialect, fund-batch-v1
    ADD COLUMN rate_per_minute int  NOT NULL DEFAULT 600 CHECK (rate_per_minute > 0),
    ADD COLUMN max_concurrent  int  NOT NULL DEFAULT 16 CHECK (max_concurrent > 0),
    ADD COLUMN client_cert_sha256 text[] NOT NULL DEFAULT '{}';      -- when set, requests must come over mutual TLS with one of these

-- A rotated key keeps working until expires_at, so a bank can switch over
-- without a moment when neither key works.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;

-- A signed request's nonce is accepted once per key (PROMISES A2). Rows older
-- than the ±300 s window are useless and are deleted as nodes go.
CREATE TABLE request_nonces (
    key_id  text NOT NULL,
    nonce   text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX request_nonces_seen ON request_nonces (seen_at);
