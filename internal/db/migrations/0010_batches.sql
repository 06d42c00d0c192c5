-- Batch uploads (issue 4): the provident fund centre's daily file, stored
-- as uploaded, processed record by record by whichever node claims it, with
-- one result per record.

CREATE TABLE batches (
    id             text PRIMARY KEY,
    partner_id     text NOT NULL REFERENCES partners,
    batch_number   text NOT NULL,                -- PCH, the partner's batch number
    batch_date     date NOT NULL,                -- PCRQ
    records        int NOT NULL CHECK (records >= 0),
    total_fen      bigint NOT NULL,              -- ZJE, verified against the records
    sha256         bytea NOT NULL,               -- of the file's exact bytes
    size_bytes     bigint NOT NULL,
    chunks         int NOT NULL,                 -- rows in batch_chunks
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'finished')),
    registered     int NOT NULL DEFAULT 0,
    rejected       int NOT NULL DEFAULT 0,
    desk           int NOT NULL DEFAULT 0,
    uploaded_at    timestamptz NOT NULL,
    started_at     timestamptz,
    finished_at    timestamptz,
    -- A node's claim: another node takes the batch over once claimed_until
    -- has passed (the claiming node died). not_before delays a retry after
    -- a pass that could not decide every record.
    claimed_by     text,
    claimed_until  timestamptz,
    not_before     timestamptz NOT NULL DEFAULT '-infinity',
    passes         int NOT NULL DEFAULT 0,
    last_error     text,
    -- The same batch number, or the same file, is the same batch.
    CONSTRAINT batches_partner_number UNIQUE (partner_id, batch_number),
    CONSTRAINT batches_partner_sha256 UNIQUE (partner_id, sha256),
    CONSTRAINT batches_counts CHECK (registered + rejected + desk <= records),
    CONSTRAINT batches_finished CHECK (status <> 'finished' OR registered + rejected + desk = records)
);
CREATE INDEX batches_open ON batches (uploaded_at) WHERE status <> 'finished';

-- The file, in 1 MiB pieces written as the upload streams in. The batch row
-- is written last, in the same transaction, once the file has been verified.
CREATE TABLE batch_chunks (
    batch_id  text NOT NULL REFERENCES batches DEFERRABLE INITIALLY DEFERRED,
    seq       int NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (batch_id, seq)
);

-- What became of each record, once. A record that made a bundle names it;
-- a bundle belongs to one record at most.
CREATE TABLE batch_records (
    batch_id           text NOT NULL REFERENCES batches,
    idx                int NOT NULL CHECK (idx >= 0),       -- 0-based position in the file
    reference          text NOT NULL,                       -- YWH as written ('' when missing)
    status             text NOT NULL CHECK (status IN ('registered', 'rejected', 'desk')),
    bundle_id          text UNIQUE REFERENCES bundles,
    certificate_number text,
    registered_at      timestamptz,
    reasons            jsonb NOT NULL DEFAULT '[]',         -- [{field, code, message}]: why rejected or sent to staff
    decided_at         timestamptz NOT NULL,
    PRIMARY KEY (batch_id, idx),
    CONSTRAINT batch_records_registered CHECK (status <> 'registered' OR certificate_number IS NOT NULL)
);
