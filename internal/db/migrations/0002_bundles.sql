-- Partners, the bundles they submit, and what the centre decided.

CREATE TABLE partners (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
    kind         text NOT NULL CHECK (kind IN ('bank', 'fund_centre')),
    name         text NOT NULL,
    credit_code  char(18) NOT NULL,
    enabled      boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as SHA-256 of the secret: the secret is 256 random bits,
-- so a slow KDF adds nothing but latency on every request.
CREATE TABLE api_keys (
    key_id       text PRIMARY KEY,
    partner_id   text NOT NULL REFERENCES partners,
    secret_hash  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE TABLE bundles (
    id                 text PRIMARY KEY,
    partner_id         text NOT NULL REFERENCES partners,
    reference          text NOT NULL,
    content_hash       bytea NOT NULL,     -- SHA-256 of the canonical application
    type               text NOT NULL,
    status             text NOT NULL CHECK (status IN ('registered', 'rejected')),
    reasons            jsonb NOT NULL DEFAULT '[]',
    application        jsonb NOT NULL,     -- canonical application, materials without content
    mortgage_id        bigint REFERENCES mortgages,
    received_at        timestamptz NOT NULL,
    decided_at         timestamptz,
    response_status    int,
    response_body      bytea,
    -- PROMISES S2: a reference is never reused, so this constraint is permanent.
    CONSTRAINT bundles_partner_reference UNIQUE (partner_id, reference)
);
CREATE INDEX bundles_received ON bundles (received_at);

CREATE TABLE materials (
    bundle_id    text NOT NULL REFERENCES bundles,
    seq          int NOT NULL,
    kind         text NOT NULL,
    file_name    text NOT NULL,
    media_type   text NOT NULL,
    sha256       bytea NOT NULL,
    content      bytea NOT NULL,
    PRIMARY KEY (bundle_id, seq)
);

CREATE TABLE fees (
    bundle_id    text PRIMARY KEY REFERENCES bundles,
    amount_fen   bigint NOT NULL CHECK (amount_fen >= 0),
    payer        text NOT NULL,
    basis        text NOT NULL,
    charged_at   timestamptz NOT NULL
);

-- Certificate serials run per year: 黑(2026)齐齐哈尔市不动产证明第0000001号.
-- One sequence a year keeps numbering off the registration's critical lock path.
CREATE FUNCTION next_certificate_serial(year int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    seq text := format('certificate_serial_%s', year);
BEGIN
    IF to_regclass(seq) IS NULL THEN
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
    END IF;
    RETURN nextval(seq::regclass);
END $$;

-- The audit trail is append-only.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    subject     text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
