-- The register (登记簿): property units, their owners, and the rights and
-- restrictions recorded on them. Names are readable English; the register's
-- pinyin-initial names (BDCDYH, DYSW, QSZT…) are given in comments.

CREATE TABLE units (
    unit_number              char(28) PRIMARY KEY,          -- BDCDYH, GB/T 37346
    location                 text NOT NULL,                 -- ZL
    use                      text NOT NULL CHECK (use IN (
                                 'residential', 'garage', 'parking', 'storeroom',
                                 'commercial', 'office', 'industrial', 'land', 'other')),
    area_m2                  numeric(12, 2) NOT NULL CHECK (area_m2 > 0),
    title_certificate_number text NOT NULL,                 -- normalised, half-width brackets
    ownership_form           text NOT NULL CHECK (ownership_form IN ('sole', 'joint', 'shares')),
    mortgageable             boolean NOT NULL DEFAULT true, -- false for public-interest facilities
    created_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE owners (
    unit_number     char(28) NOT NULL REFERENCES units,
    seq             int NOT NULL,
    name            text NOT NULL,
    id_type         text NOT NULL,                          -- ZJZL code
    id_number       text NOT NULL,
    share_numerator   int,                                  -- only for ownership in shares
    share_denominator int,
    PRIMARY KEY (unit_number, seq),
    CHECK ((share_numerator IS NULL) = (share_denominator IS NULL)),
    CHECK (share_denominator IS NULL OR (share_numerator > 0 AND share_denominator >= share_numerator))
);

CREATE TABLE seizures (                                     -- 查封
    id              bigserial PRIMARY KEY,
    unit_number     char(28) NOT NULL REFERENCES units,
    authority       text NOT NULL,
    document_number text NOT NULL,
    seized_from     date NOT NULL,
    seized_until    date,
    lifted_at       timestamptz
);
CREATE INDEX seizures_unit ON seizures (unit_number);

CREATE TABLE objections (                                   -- 异议登记
    id              bigserial PRIMARY KEY,
    unit_number     char(28) NOT NULL REFERENCES units,
    applicant       text NOT NULL,
    matter          text NOT NULL,
    registered_on   date NOT NULL,
    expires_on      date,
    cancelled_at    timestamptz
);
CREATE INDEX objections_unit ON objections (unit_number);

CREATE TABLE preregistrations (                             -- 预告登记
    id              bigserial PRIMARY KEY,
    unit_number     char(28) NOT NULL REFERENCES units,
    kind            text NOT NULL CHECK (kind IN ('purchase', 'mortgage')),
    holder_name     text NOT NULL,
    holder_id_type  text NOT NULL,
    holder_id_number text NOT NULL,
    registered_on   date NOT NULL,
    ended_at        timestamptz
);
CREATE INDEX preregistrations_unit ON preregistrations (unit_number);

-- A mortgage right (抵押权). One right may cover several units; its rank is per unit.
CREATE TABLE mortgages (
    id                   bigserial PRIMARY KEY,
    certificate_number   text UNIQUE,                       -- BDCDJZMH; NULL for rights imported without one
    kind                 text NOT NULL CHECK (kind IN ('general', 'maximum')),  -- DYFS 1 / 2
    collateral_kind      text NOT NULL,                     -- DYBDCLX
    principal_fen        bigint CHECK (principal_fen > 0),  -- BDBZZQSE
    maximum_fen          bigint CHECK (maximum_fen > 0),    -- ZGZQSE
    debt_start           date NOT NULL,                     -- ZWLXQSSJ
    debt_end             date NOT NULL,                     -- ZWLXJSSJ
    scope                text NOT NULL,                     -- DBFW
    transfer_restricted  boolean NOT NULL,
    mortgagors           jsonb NOT NULL,                    -- DYR
    debtors              jsonb NOT NULL,                    -- ZWR
    mortgagee_name       text NOT NULL,                     -- DYQR
    mortgagee_id_number  text NOT NULL,
    state                smallint NOT NULL DEFAULT 1 CHECK (state IN (0, 1, 2, 3)), -- QSZT
    registered_at        timestamptz NOT NULL,              -- DJSJ
    recording_officer    text NOT NULL,                     -- DBR
    cancelled_at         timestamptz,                       -- ZXSJ
    cancel_reason        text,                              -- ZXDYYY
    cancelled_by         text,                              -- recording officer of the cancellation
    CHECK ((kind = 'general') = (principal_fen IS NOT NULL)),
    CHECK ((kind = 'maximum') = (maximum_fen IS NOT NULL))
);

CREATE TABLE mortgage_units (
    mortgage_id  bigint NOT NULL REFERENCES mortgages,
    unit_number  char(28) NOT NULL REFERENCES units,
    rank         int NOT NULL CHECK (rank > 0),             -- DYSW
    current      boolean NOT NULL DEFAULT true,
    PRIMARY KEY (mortgage_id, unit_number)
);
-- Two current mortgages can never share a rank on one unit (PROMISES S5).
CREATE UNIQUE INDEX mortgage_units_rank ON mortgage_units (unit_number, rank) WHERE current;
