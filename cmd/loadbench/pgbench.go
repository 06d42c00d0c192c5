package main

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"mortgaged/internal/pgcluster"
	"mortgaged/mortgage"
)

// pgbenchScript is bench/registration.sql. It lives here so that the file
// pgbench runs is always the one this code passes variables to; loadbench
// rewrites the file on every run.
const pgbenchScript = `-- The registration transaction of POST /v1/bundles, replayed by pgbench.
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
-- 0015's current_restrictions) and the top rank ever registered (cancelled included), in one round trip.
SELECT unit_number, kind, holder_id_number AS value FROM current_restrictions(:today)
 WHERE unit_number = ANY (ARRAY[(:unitprefix::text || lpad(:u::text, 8, '0'))::char(28)])
UNION ALL
SELECT unit_number, 'rank', max(rank)::text FROM mortgage_units
 WHERE unit_number = ANY (ARRAY[(:unitprefix::text || lpad(:u::text, 8, '0'))::char(28)])
 GROUP BY unit_number;

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
-- again (one more probe of mortgage_units_unit_rank, in shared buffers).
INSERT INTO mortgage_units (mortgage_id, unit_number, rank)
SELECT :mortgage_id, t.u, t.r
  FROM unnest(ARRAY[:unitprefix::text || lpad(:u::text, 8, '0')],
              ARRAY[(SELECT coalesce(max(rank), 0) + 1 FROM mortgage_units
                      WHERE unit_number = (:unitprefix::text || lpad(:u::text, 8, '0'))::char(28))])
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
`

// pgbenchResult is what pgbench reported.
type pgbenchResult struct {
	tps       float64
	processed int     // transactions committed
	latency   float64 // ms, average
	output    string
	cpu       cpuUse
}

func (r pgbenchResult) print() {
	step("  pgbench: %d transactions, %.1f tps, average latency %.2f ms", r.processed, r.tps, r.latency)
	printCPU(r.cpu)
}

// pgbenchFloor writes the script and runs pgbench over units s, with the
// values of a bundle phase 1 registered.
func pgbenchFloor(ctx context.Context, c config, env *database, postmaster int, s span, today mortgage.Date) (pgbenchResult, error) {
	if err := writeScript(c.script); err != nil {
		return pgbenchResult{}, err
	}
	vars, err := pgbenchVars(ctx, env.db, c, s, today)
	if err != nil {
		return pgbenchResult{}, err
	}
	before := takeCPU(postmaster)
	r, pgbenchCPU, err := runPgbench(ctx, c, env.cluster.Cluster, vars)
	waitChildren(postmaster, len(children(before.procs, postmaster)), 2*time.Second)
	r.cpu = since(before, takeCPU(postmaster), pgbenchCPU)
	return r, err
}

func writeScript(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && string(old) == pgbenchScript {
		return nil // leave the file's time alone when nothing changed
	}
	return os.WriteFile(path, []byte(pgbenchScript), 0o644)
}

// sampleBundle is what one registered bundle wrote: pgbench writes the
// same values, so its rows are the size of ours.
type sampleBundle struct {
	App         string `db:"app"`
	Body        []byte `db:"response_body"`
	Hash        []byte `db:"content_hash"`
	Mortgagors  string `db:"mortgagors"`
	Debtors     string `db:"debtors"`
	Detail      string `db:"detail"`
	VCode       string `db:"verification_code"`
	KeyID       string `db:"key_id"`
	CertJSON    []byte `db:"json_document"`
	CertJSONSig []byte `db:"json_signature"`
	CertXML     []byte `db:"xml_document"`
	CertXMLSig  []byte `db:"xml_signature"`
	EventType   string `db:"event_type"`
	Payload     []byte `db:"payload"`
}

// pgbenchVars are the script's -D variables.
func pgbenchVars(ctx context.Context, d *sqlx.DB, c config, s span, today mortgage.Date) ([]string, error) {
	var b sampleBundle
	if err := d.GetContext(ctx, &b, `SELECT b.application::text AS app, b.response_body, b.content_hash,
			m.mortgagors::text AS mortgagors, m.debtors::text AS debtors, a.detail::text AS detail,
			c.verification_code, c.key_id, c.json_document, c.json_signature, c.xml_document, c.xml_signature,
			e.type AS event_type, e.payload
		FROM bundles b JOIN mortgages m ON m.id = b.mortgage_id JOIN audit_log a ON a.subject = b.id
			JOIN certificates c ON c.bundle_id = b.id JOIN events e ON e.subject = b.id
		WHERE b.partner_id = $1 AND b.status = 'registered'
		ORDER BY b.received_at LIMIT 1`, benchPartner); err != nil {
		return nil, fmt.Errorf("read a registered bundle for pgbench: %w", err)
	}
	app := application(s.lo, today)
	t := app.Mortgage
	year := today.Year()
	cfg := newService(nil).Config
	arrays, err := materialArrays(app.Materials)
	if err != nil {
		return nil, err
	}
	return append([]string{
		"ulo=" + strconv.Itoa(s.lo), "uhi=" + strconv.Itoa(s.hi), "nclients=" + strconv.Itoa(c.clients), "k=-1",
		"run=" + strconv.FormatInt(time.Now().Unix(), 10),
		"partner=" + pgbenchPartner, "unitprefix=" + unitPrefix,
		"today=" + today.String(), "year=" + strconv.Itoa(year),
		"certprefix=" + fmt.Sprintf("%s(%d)%s不动产证明第", cfg.Province, year, cfg.City), "authority=" + cfg.Authority,
		"principal=" + strconv.FormatInt(t.PrincipalFen, 10),
		"debtstart=" + t.DebtStart.String(), "debtend=" + t.DebtEnd.String(), "scope=" + t.Scope,
		"mortgagee=" + app.Mortgagee.Name, "mortgageeid=" + app.Mortgagee.IDNumber, "officer=" + cfg.RecordingOfficer,
		"mortgagors=" + b.Mortgagors, "debtors=" + b.Debtors, "app=" + b.App, "detail=" + b.Detail,
		"hash=" + byteaText(b.Hash), "body=" + byteaText(b.Body),
		"vcode=" + b.VCode, "keyid=" + b.KeyID, "certjson=" + byteaText(b.CertJSON), "certjsonsig=" + byteaText(b.CertJSONSig),
		"certxml=" + byteaText(b.CertXML), "certxmlsig=" + byteaText(b.CertXMLSig),
		"eventtype=" + b.EventType, "payload=" + byteaText(b.Payload),
	}, arrays...), nil
}

// materialArrays renders the materials as the array literals lib/pq sends
// for writeBundle's unnest parameters.
func materialArrays(ms []mortgage.Material) ([]string, error) {
	kinds, names, media, sums := make(pq.StringArray, len(ms)), make(pq.StringArray, len(ms)), make(pq.StringArray, len(ms)), make(pq.StringArray, len(ms))
	contents := make(pq.ByteaArray, len(ms))
	for i, m := range ms {
		kinds[i], names[i], media[i], sums[i], contents[i] = m.Kind, m.FileName, m.MediaType, m.SHA256, m.Content
	}
	var out []string
	for _, a := range []struct {
		name string
		v    driver.Valuer
	}{{"kinds", kinds}, {"names", names}, {"media", media}, {"sums", sums}, {"contents", contents}} {
		v, err := a.v.Value()
		if err != nil {
			return nil, err
		}
		out = append(out, a.name+"="+v.(string))
	}
	return out, nil
}

// byteaText is the text input form of a bytea value.
func byteaText(b []byte) string { return `\x` + hex.EncodeToString(b) }

// runPgbench runs pgbench against the cluster's socket and parses its
// report; it also returns the CPU-seconds pgbench itself used.
func runPgbench(ctx context.Context, c config, cl *pgcluster.Cluster, vars []string) (pgbenchResult, float64, error) {
	args := []string{"-n", "-f", c.script,
		"-c", strconv.Itoa(c.clients), "-j", strconv.Itoa(min(2, c.clients)),
		"-T", strconv.Itoa(int(math.Ceil(c.duration.Seconds()))), "-M", c.mode,
		"-h", cl.SocketDir(), "-p", strconv.Itoa(pgcluster.Port), "-U", "postgres"}
	for _, v := range vars {
		args = append(args, "-D", v)
	}
	args = append(args, dbName)
	cmd := exec.CommandContext(ctx, c.pgbench, args...)
	cmd.Env = withoutPGEnv()
	out, err := cmd.CombinedOutput()
	var used float64
	if ps := cmd.ProcessState; ps != nil {
		used = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	r, perr := parsePgbench(string(out))
	if err != nil || perr != nil {
		return r, used, fmt.Errorf("pgbench: %v %v\n%s", err, perr, out)
	}
	return r, used, nil
}

// withoutPGEnv drops PG* variables (PGHOST, PGOPTIONS…) that would point
// pgbench elsewhere or change its session.
func withoutPGEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

var (
	tpsRe       = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
	processedRe = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)
	latencyRe   = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
	abortedRe   = regexp.MustCompile(`(?m)aborted in command`)
)

func parsePgbench(out string) (pgbenchResult, error) {
	r := pgbenchResult{output: out}
	m := tpsRe.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no tps line in pgbench output")
	}
	r.tps, _ = strconv.ParseFloat(m[1], 64)
	if m := processedRe.FindStringSubmatch(out); m != nil {
		r.processed, _ = strconv.Atoi(m[1])
	}
	if m := latencyRe.FindStringSubmatch(out); m != nil {
		r.latency, _ = strconv.ParseFloat(m[1], 64)
	}
	if abortedRe.MatchString(out) {
		return r, fmt.Errorf("a pgbench client aborted")
	}
	return r, nil
}
