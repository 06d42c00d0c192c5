-- The registration transaction of POST /v1/bundles, replayed by pgbench.
--
-- Written by cmd/loadbench (pgbench.go) on every run: edit it there. Phase 3
-- of loadbench runs it against the same durable cluster the server used:
--
--   pgbench -n -f bench/registration.sql -c C -j 2 -T D -M prepared \
--     -h <socket dir> -p 5432 -U postgres -D name=value ... loadbench
--
-- It sends the statements of mortgage.Service.Submit (mortgage/service.go),
-- registerFirst (mortgage/register.go) and enqueue (mortgage/outbox.go),
-- each a method of mortgage/store (store.Tx, below), in the same order, to the same tables and indexes, with rows of the same size:
-- loadbench passes, as -D variables, the application, answer, content hash,
-- parties, audit detail, materials, signed certificate and outbox event of a
-- bundle phase 1 registered. Left out is everything that is not PostgreSQL:
-- HTTP, JSON, validation, signing, Go and lib/pq (which sends each
-- statement as Parse/Describe, then Bind/Execute: two round trips; -M
-- prepared sends one). Also left out, being outside the registration
-- transaction, is the request's authentication (server/auth.go: the key
-- lookup, and the nonce insert in its own transaction). Its tps is
-- therefore the most this machine's PostgreSQL gives our transaction: the
-- floor of its cost.
--
-- Variables, all set by loadbench:
--   ulo, uhi, nclients  units to register and the number of clients (-c)
--   k                   -1 (see below)
--   run                 run id, so bundle ids and references never repeat
--   partner             partner id (loadbench-pgbench)
--   unitprefix          unit i is unitprefix || lpad(i, 8, '0')
--   today, year         business date and year (Asia/Shanghai)
--   certprefix          黑(<year>)齐齐哈尔市不动产证明第
--   authority           the registration authority, whose sequence numbers certificates
--   principal, debtstart, debtend, scope, mortgagee, mortgageeid, officer
--   mortgagors, debtors, app, hash, body, detail   a registered bundle's values
--   kinds, names, media, sums, contents            its materials, as arrays
--   vcode, keyid, certjson, certjsonsig, certxml, certxmlsig   its certificate
--   eventtype, payload                             its outbox event

-- Client c registers units ulo+c, ulo+c+nclients, …: no two clients queue
-- on one unit's lock, as with different banks' customers. Past uhi the walk
-- wraps round and mortgages a unit again at the next rank, which the
-- service would do too. k counts this client's transactions: each client
-- keeps its own variables from one transaction to the next, and -D k=-1
-- starts every client's count.
\set k :k + 1
\set u :ulo + (:k * :nclients + :client_id) % (:uhi - :ulo + 1)

-- service.go Submit: BeginTxx.
BEGIN;

-- service.go Submit, Tx.AdvisoryLock: pg_advisory_xact_lock(idempotencyLockSpace = 0x6d67,
-- hashtext(partner/reference)), so retries of one submission queue.
SELECT pg_advisory_xact_lock(28007,
    hashtext(:partner::text || '/PGB-' || :run::text || '-' || :client_id::text || '-' || :k::text));

-- service.go Submit, Tx.PriorByReference: look for a bundle with this reference (a retry would
-- be answered from it; a new submission finds none).
SELECT id, content_hash, response_status, response_body
  FROM bundles
 WHERE partner_id = :partner AND reference = 'PGB-' || :run::text || '-' || :client_id::text || '-' || :k::text;

-- store/register.go lockUnitsSQL (Tx.LockUnits): lock the units, in unit-number order.
SELECT unit_number, location, use, title_certificate_number, ownership_form, mortgageable
  FROM units
 WHERE unit_number = ANY (ARRAY[(:unitprefix::text || lpad(:u::text, 8, '0'))::char(28)])
 ORDER BY unit_number FOR UPDATE;

-- store/register.go ownersSQL (Tx.Owners): the units' registered owners.
SELECT unit_number, name, id_number, share_numerator, share_denominator
  FROM owners
 WHERE unit_number = ANY (ARRAY[(:unitprefix::text || lpad(:u::text, 8, '0'))::char(28)])
 ORDER BY unit_number, seq;

-- store/register.go RestrictionsSQL (Tx.Restrictions): what stands on the unit today (migration
-- 0015's current_restrictions) and the top current rank, in one round trip.
SELECT unit_number, kind, holder_id_number AS value FROM current_restrictions(:today)
 WHERE unit_number = ANY (ARRAY[(:unitprefix::text || lpad(:u::text, 8, '0'))::char(28)])
UNION ALL
SELECT unit_number, 'rank', max(rank)::text FROM mortgage_units
 WHERE unit_number = ANY (ARRAY[(:unitprefix::text || lpad(:u::text, 8, '0'))::char(28)])
   AND current GROUP BY unit_number;

-- store/register.go insertMortgageSQL (Tx.InsertMortgage): the mortgage right, not yet numbered.
INSERT INTO mortgages (certificate_number, kind, collateral_kind, principal_fen, maximum_fen,
        debt_start, debt_end, scope, transfer_restricted, mortgagors, debtors, mortgagee_name, mortgagee_id_number,
        state, registered_at, recording_officer)
VALUES (NULL, 'general', '2', :principal, NULL,
        :debtstart, :debtend, :scope, true, :mortgagors, :debtors, :mortgagee, :mortgageeid,
        1, now(), :officer)
RETURNING id AS mortgage_id
\gset

-- store/register.go insertMortgageUnitsSQL (Tx.InsertMortgageUnits): the mortgage's rank on each unit.
-- The service takes the rank from the restrictions query above; pgbench
-- cannot keep a result that may have no rows, so the subquery reads it
-- again (one more probe of mortgage_units_rank, in shared buffers).
INSERT INTO mortgage_units (mortgage_id, unit_number, rank)
SELECT :mortgage_id, t.u, t.r
  FROM unnest(ARRAY[:unitprefix::text || lpad(:u::text, 8, '0')],
              ARRAY[(SELECT coalesce(max(rank), 0) + 1 FROM mortgage_units
                      WHERE unit_number = (:unitprefix::text || lpad(:u::text, 8, '0'))::char(28) AND current)])
       AS t(u, r);

-- store/serials.go drawCertificateSQL (Tx.DrawCertificate): the number, drawn from the authority's
-- sequence for the year once the decision is known.
UPDATE mortgages SET certificate_number = :certprefix::text || lpad(next_certificate_serial(:authority, :year)::text, 7, '0') || '号'
 WHERE id = :mortgage_id
RETURNING certificate_number AS certno
\gset

-- service.go writeBundle, Tx.InsertBundle: the bundle with its canonical application and
-- the exact answer, kept so a retry gets the same bytes back.
INSERT INTO bundles (id, partner_id, reference, content_hash, type, status, reasons, application, mortgage_id,
        received_at, decided_at, response_status, response_body, desk_reasons, deadline)
VALUES ('pgb-' || :run::text || '-' || :client_id::text || '-' || :k::text, :partner,
        'PGB-' || :run::text || '-' || :client_id::text || '-' || :k::text,
        :hash, 'mortgage_first_general', 'registered', '[]', :app, :mortgage_id,
        now(), now(), 201, :body, '[]', NULL);

-- service.go writeBundle, Tx.InsertMaterials: the materials, one statement for all of them.
INSERT INTO materials (bundle_id, seq, kind, file_name, media_type, sha256, content)
SELECT 'pgb-' || :run::text || '-' || :client_id::text || '-' || :k::text,
       m.ord, m.kind, m.name, m.media, decode(m.sum, 'hex'), m.content
  FROM unnest(:kinds::text[], :names::text[], :media::text[], :sums::text[], :contents::bytea[]) WITH ORDINALITY
       AS m(kind, name, media, sum, content, ord);

-- service.go writeBundle, Tx.InsertFee: the fee (residential rate, paid by the mortgagee).
INSERT INTO fees (bundle_id, amount_fen, payer, basis, cases, rule, charged_at)
VALUES ('pgb-' || :run::text || '-' || :client_id::text || '-' || :k::text, 8000, 'mortgagee', 'residential', 1, '发改价格规〔2016〕2559号第一条第（一）项：住宅类每件80元；按件收取，同一宗地上多个抵押物办理一笔贷款按一件，非同宗地按多件', now());

-- store/submit.go registeredSQL (Tx.WriteRegistration): the audit record and the signed certificate
-- (JSON and XML with their signatures), in one statement.
WITH audit AS (
        INSERT INTO audit_log (at, actor, action, subject, detail)
        VALUES (now(), :officer, 'bundle.registered', 'pgb-' || :run::text || '-' || :client_id::text || '-' || :k::text, :detail))
INSERT INTO certificates (number, bundle_id, mortgage_id, partner_id, verification_code,
        status, issued_at, key_id, json_document, json_signature, xml_document, xml_signature)
VALUES (:certno, 'pgb-' || :run::text || '-' || :client_id::text || '-' || :k::text, :mortgage_id, :partner, :vcode,
        'valid', now(), :keyid, :certjson, :certjsonsig, :certxml, :certxmlsig);

-- outbox.go enqueue, store/outbox.go insertEventSQL (store.InsertEvent): the decision event for the partner,
-- committed with the decision (PROMISES D1).
INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, next_attempt_at)
VALUES ('evt_pgb_' || :run::text || '_' || :client_id::text || '_' || :k::text, :partner, :eventtype,
        'pgb-' || :run::text || '-' || :client_id::text || '-' || :k::text, now(), :payload, now());

-- service.go Submit: tx.Commit, which waits for the WAL flush.
COMMIT;
