package retention_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/mortgage"
	"mortgaged/mortgage/registerdata"
	"mortgaged/partners/centrejson"
	"mortgaged/sync/retention"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }

// now is the test's clock: the job is given the time, never reads it.
var now = time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var policy = retention.Policy{BatchChunks: 90 * day, DeliveredEvents: 90 * day, Deliveries: 90 * day}

// register imports a small demo register and registers one mortgage
// through the real service, so that bundles, materials, certificates,
// fees, the audit trail and the register hold real rows; then it dates
// them all long before any retention period.
func register(t *testing.T, d *sqlx.DB) {
	t.Helper()
	ctx := t.Context()
	var buf bytes.Buffer
	demo, err := registerdata.GenerateDemo(&buf, 300, 21)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registerdata.Import(ctx, d, &buf, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range demo.Partners {
		if _, err := d.Exec(`INSERT INTO partners (id, kind, name, credit_code) VALUES ($1, $2, $3, $4)`, p.ID, p.Kind, p.Name, p.CreditCode); err != nil {
			t.Fatal(err)
		}
	}
	loc := time.FixedZone("CST", 8*60*60)
	today := registerdata.DemoDate
	svc := mortgage.NewService(d, mortgage.Config{Province: "黑", City: "齐齐哈尔市", Authority: "齐齐哈尔市不动产登记中心",
		RecordingOfficer: "自动登簿", ObjectionPolicy: mortgage.ObjectionRefuse, Location: loc})
	svc.Now = func() time.Time { return time.Date(today.Year(), today.Month(), today.Day(), 10, 0, 0, 0, loc) }
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if svc.Signer, err = certkeys.Open(ctx, d, sealer); err != nil {
		t.Fatal(err)
	}
	render := func(dec *mortgage.Decision) (mortgage.Answer, error) {
		b, err := centrejson.EncodeDecision(dec, loc)
		return mortgage.Answer{Status: 201, Body: b}, err
	}
	bank := demo.Partners[0]
	app := registerdata.SampleBundles(demo, today)[registerdata.SampleFirstGeneral]
	out, err := svc.Submit(ctx, mortgage.Submitter{PartnerID: bank.ID, CreditCode: bank.CreditCode}, app, render)
	if err != nil || out.Decision.Status != mortgage.StatusRegistered {
		t.Fatalf("Submit: %v %+v", err, out.Decision)
	}
	if _, err := d.Exec(`INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, 'cli', 'test', 'x', '{}')`, now.Add(-5000*day)); err != nil {
		t.Fatal(err)
	}
}

// kept are the tables the job must never shrink.
var kept = []string{"bundles", "materials", "certificates", "fees", "audit_log", "units", "owners",
	"mortgages", "batches", "batch_records", "partners", "signing_keys", "certificate_serials"}

func counts(t *testing.T, d *sqlx.DB, tables []string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM `+tb); err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		m[tb] = n
	}
	return m
}

func exec(t *testing.T, d *sqlx.DB, q string, args ...any) {
	t.Helper()
	if _, err := d.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// event adds an event of lj's in the given state, delivered (or last
// tried) at, with one delivery attempt started then.
func event(t *testing.T, d *sqlx.DB, partner, id, status string, at time.Time) {
	t.Helper()
	var delivered any
	if status == "delivered" {
		delivered = at
	}
	exec(t, d, `INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, status, attempts, next_attempt_at, delivered_at)
		VALUES ($1, $2, 'test', 'x', $3, '{}', $4, 1, $3, $5)`, id, partner, at, status, delivered)
	exec(t, d, `INSERT INTO deliveries (event_id, attempt, node, started_at, status_code, duration_ms) VALUES ($1, 1, 'n1', $2, 200, 5)`, id, at)
}

func batch(t *testing.T, d *sqlx.DB, partner, id, status string, finished time.Time) {
	t.Helper()
	var fin any
	if status == "finished" {
		fin = finished
	}
	exec(t, d, `INSERT INTO batches (id, partner_id, batch_number, batch_date, records, total_fen, sha256, size_bytes, chunks, status, uploaded_at, finished_at)
		VALUES ($1, $2, $1, $3::date, 0, 0, sha256(convert_to($1, 'UTF8')), 2, 2, $4, $6, $5)`, id, partner, finished.Add(-day), status, fin, finished.Add(-day))
	exec(t, d, `INSERT INTO batch_chunks (batch_id, seq, data) VALUES ($1, 0, 'a'), ($1, 1, 'b')`, id)
}

func ids(t *testing.T, d *sqlx.DB, q string) map[string]bool {
	t.Helper()
	var s []string
	if err := d.Select(&s, q); err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

// TestRun: what outlived its period goes, what did not stays, and nothing
// of the register, the registrations or the audit trail is touched
// however old; undelivered events and dead letters stay by any age.
func TestRun(t *testing.T) {
	t.Parallel()
	d, err := db.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	register(t, d)
	var partner string
	if err := d.Get(&partner, `SELECT id FROM partners ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	old, recent := now.Add(-91*day), now.Add(-89*day)
	// Every event and registration the service wrote is long delivered,
	// long ago: events may go, the rest must stay.
	exec(t, d, `UPDATE events SET status = 'delivered', delivered_at = $1, occurred_at = $1`, now.Add(-4000*day))
	exec(t, d, `UPDATE bundles SET received_at = $1`, now.Add(-4000*day))
	event(t, d, partner, "ev-old-delivered", "delivered", old)
	event(t, d, partner, "ev-recent-delivered", "delivered", recent)
	event(t, d, partner, "ev-old-pending", "pending", now.Add(-400*day))
	event(t, d, partner, "ev-old-dead", "dead", now.Add(-400*day))
	batch(t, d, partner, "b-old-finished", "finished", old)
	batch(t, d, partner, "b-recent-finished", "finished", recent)
	batch(t, d, partner, "b-old-open", "processing", old)
	// A delivered event kept longer than its attempt records.
	keepEvents := policy
	keepEvents.DeliveredEvents = 400 * day
	event(t, d, partner, "ev-kept-attempts-old", "delivered", now.Add(-200*day))

	before := counts(t, d, kept)
	if before["bundles"] == 0 || before["certificates"] == 0 || before["materials"] == 0 || before["audit_log"] == 0 {
		t.Fatalf("the setup registered nothing: %v", before)
	}

	if _, err := retention.Run(t.Context(), d, keepEvents, now); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, d, `SELECT event_id FROM deliveries`); got["ev-kept-attempts-old"] || !got["ev-recent-delivered"] || !got["ev-old-pending"] || !got["ev-old-dead"] {
		t.Errorf("after removing old attempts only, attempts of %v remain", got)
	}
	if got := ids(t, d, `SELECT id FROM events`); !got["ev-kept-attempts-old"] || !got["ev-old-delivered"] {
		t.Errorf("events kept 400 days: %v", got)
	}

	r, err := retention.Run(t.Context(), d, policy, now)
	if err != nil {
		t.Fatal(err)
	}
	got := ids(t, d, `SELECT id FROM events`)
	want := map[string]bool{"ev-recent-delivered": true, "ev-old-pending": true, "ev-old-dead": true}
	if len(got) != len(want) || !got["ev-recent-delivered"] || !got["ev-old-pending"] || !got["ev-old-dead"] {
		t.Errorf("events left %v, want %v", got, want)
	}
	if r.Events < 2 {
		t.Errorf("removed %+v", r)
	}
	if got := ids(t, d, `SELECT DISTINCT batch_id FROM batch_chunks`); len(got) != 2 || got["b-old-finished"] {
		t.Errorf("batch files left %v, want the recent and the open batch's", got)
	}
	if after := counts(t, d, kept); !equal(before, after) {
		t.Errorf("rows of kept tables changed:\nbefore %v\nafter  %v", before, after)
	}
	// A second run finds nothing more.
	if r, err := retention.Run(t.Context(), d, policy, now); err != nil || r != (retention.Removed{}) {
		t.Errorf("second run removed %+v, %v", r, err)
	}
}

func equal(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
