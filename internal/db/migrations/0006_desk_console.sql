-- The exceptions desk (容缺受理, manual review) and the staff console.

-- A bundle may now wait at the desk, or be withdrawn by its partner.
ALTER TABLE bundles DROP CONSTRAINT bundles_status_check;
ALTER TABLE bundles ADD CONSTRAINT bundles_status_check
    CHECK (status IN ('registered', 'rejected', 'desk', 'withdrawn'));
ALTER TABLE bundles
    ADD COLUMN desk_reasons jsonb NOT NULL DEFAULT '[]',   -- why it went to staff: [{code, field, message}]
    ADD COLUMN deadline     timestamptz,                    -- decide by (business calendar)
    ADD COLUMN assigned_to  text,                           -- staff username
    ADD COLUMN decided_by   text,                           -- staff username, or NULL for automatic
    ADD COLUMN decision_note text;
CREATE INDEX bundles_desk ON bundles (deadline) WHERE status = 'desk';

-- Documents promised for later under 容缺受理.
CREATE TABLE promises (
    bundle_id      text NOT NULL REFERENCES bundles,
    kind           text NOT NULL,          -- material kind promised
    due_on         date NOT NULL,
    fulfilled_at   timestamptz,
    material_seq   int,                    -- the material that fulfilled it
    PRIMARY KEY (bundle_id, kind)
);
CREATE INDEX promises_open ON promises (due_on) WHERE fulfilled_at IS NULL;

-- Centre staff. Passwords are hashed with a memory-hard KDF (argon2id).
CREATE TABLE staff (
    username      text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,31}$'),
    display_name  text NOT NULL,          -- the name recorded as 登簿人 when they approve
    role          text NOT NULL CHECK (role IN ('reviewer', 'supervisor', 'auditor')),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Console sessions: only a hash of the cookie value is stored.
CREATE TABLE staff_sessions (
    id_hash      bytea PRIMARY KEY,
    username     text NOT NULL REFERENCES staff,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);

-- Holiday notices loaded by administrators (2026 ships with the binary).
CREATE TABLE calendar_years (
    year       int PRIMARY KEY,
    notice     jsonb NOT NULL,
    loaded_by  text NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);

-- Routing rules as data: which bundles go to staff instead of being decided
-- by rule. kind names the rule; params hold its settings.
CREATE TABLE routing_rules (
    kind       text PRIMARY KEY,
    enabled    boolean NOT NULL DEFAULT true,
    params     jsonb NOT NULL DEFAULT '{}',
    updated_by text NOT NULL DEFAULT 'system',
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO routing_rules (kind, params) VALUES
    ('promised_document', '{"allowed": ["business_licence", "identity_document", "authorisation", "loan_contract"], "maxWorkingDays": 5}'),
    ('name_near_match', '{}'),
    ('old_id_number', '{}'),
    ('amount_review', '{"aboveFen": 1000000000}'),
    ('partner_requested', '{}');
