package push_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mortgaged/internal/testwait"
	"mortgaged/sync/outbox"
	"mortgaged/sync/push"
)

type deliveryRow struct {
	Attempt    int       `db:"attempt"`
	Node       string    `db:"node"`
	StartedAt  time.Time `db:"started_at"`
	StatusCode *int      `db:"status_code"`
	Error      *string   `db:"error"`
}

func (e *env) deliveries(id string) []deliveryRow {
	e.t.Helper()
	var rows []deliveryRow
	if err := e.db.Select(&rows, `SELECT attempt, node, started_at, status_code, error FROM deliveries WHERE event_id = $1 ORDER BY attempt`, id); err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// TestPushedDeliveryVerifiesFromTheSpec: a partner that implements Standard
// Webhooks verification from the specification alone accepts our delivery.
func TestPushedDeliveryVerifiesFromTheSpec(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ep := newEndpoint(t)
	ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1m", "each"))
	ids := e.addEvents("lj-bank", 1)
	st, err := e.deliverer("node-1", push.Config{}).Run(t.Context(), "lj-bank")
	if err != nil || st.Delivered != 1 || st.Attempts != 1 {
		t.Fatalf("run: %+v, %v", st, err)
	}
	got := ep.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	r := got[0]
	var payload []byte
	if err := e.db.Get(&payload, `SELECT payload FROM events WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	switch {
	case r.verifyErr != nil:
		t.Errorf("independent verification: %v", r.verifyErr)
	case r.id != ids[0]:
		t.Errorf("webhook-id %q, want the event id %q", r.id, ids[0])
	case string(r.body) != string(payload):
		t.Errorf("body %s, want the stored payload %s", r.body, payload)
	case r.contentType != "application/json" || r.attempt != "1":
		t.Errorf("Content-Type %q, attempt %q", r.contentType, r.attempt)
	}
	if s := e.status(ids)[ids[0]]; s != "delivered" {
		t.Errorf("status %s, want delivered", s)
	}
	ds := e.deliveries(ids[0])
	if len(ds) != 1 || ds[0].Node != "node-1" || ds[0].StatusCode == nil || *ds[0].StatusCode != 204 || ds[0].Error != nil {
		t.Errorf("delivery log %+v", ds)
	}
	// Nothing is due any more.
	if st, _ := e.deliverer("node-1", push.Config{}).Run(t.Context(), "lj-bank"); st.Attempts != 0 {
		t.Errorf("second run made %d attempts", st.Attempts)
	}
}

// TestRetriesUntilThePartnerRecovers proves PROMISES D2: a partner endpoint
// that answers 500, then times out, then refuses connections, is retried on
// schedule with the same id and a fresh timestamp and signature each time,
// and receives every event once it recovers.
func TestRetriesUntilThePartnerRecovers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ep := newEndpoint(t)
	ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1m", "each"))
	ids := e.addEvents("lj-bank", 5)
	retry := []time.Duration{0, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond, time.Second, time.Second}
	d := e.deliverer("node-1", push.Config{Retry: retry, Timeout: 300 * time.Millisecond})
	// A clock that moves on a few seconds per attempt, so each attempt's
	// webhook-timestamp differs (Unix seconds) without sleeping.
	var ticks atomic.Int64
	d.Now = func() time.Time { return time.Now().Add(time.Duration(ticks.Add(1)) * 2 * time.Second) }

	// One round per phase: wait until every event is due again (its retry
	// delay has passed), then run the push once; it claims and tries all
	// five together.
	round := func() {
		t.Helper()
		testwait.For(t, func() error {
			var due bool
			if err := e.db.Get(&due, `SELECT bool_and(next_attempt_at <= now()) FROM events`); err != nil {
				t.Fatal(err)
			}
			if !due {
				return errors.New("events not due again yet")
			}
			return nil
		})
		if st, err := d.Run(t.Context(), "lj-bank"); err != nil || st.Attempts != len(ids) {
			t.Fatalf("round: %+v, %v; want one attempt for each event", st, err)
		}
	}
	ep.setAnswer(func(http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError })
	round()
	ep.setAnswer(func(_ http.ResponseWriter, r *http.Request) int {
		<-r.Context().Done() // no answer: the push gives up after its timeout
		return http.StatusOK
	})
	round()
	ep.stop() // connection refused
	round()
	ep.setAnswer(nil)
	ep.start() // recovered, on the same address
	round()
	for id, s := range e.status(ids) {
		if s != "delivered" {
			t.Errorf("%s is %s after the partner recovered", id, s)
		}
	}

	byEvent := map[string][]received{}
	for _, r := range ep.requests() {
		byEvent[r.id] = append(byEvent[r.id], r)
	}
	for _, id := range ids {
		rs := byEvent[id]
		// Attempt 3 was refused, so it never arrived.
		var attempts []string
		stamps := map[string]bool{}
		sigs := map[string]bool{}
		for _, r := range rs {
			attempts = append(attempts, r.attempt)
			stamps[r.timestamp], sigs[r.signature] = true, true
			if r.verifyErr != nil {
				t.Errorf("%s attempt %s: %v", id, r.attempt, r.verifyErr)
			}
		}
		if !slices.Equal(attempts, []string{"1", "2", "4"}) {
			t.Errorf("%s arrived as attempts %v, want 1, 2 and 4 (3 was refused)", id, attempts)
		}
		if len(stamps) != len(rs) || len(sigs) != len(rs) {
			t.Errorf("%s: %d timestamps and %d signatures over %d attempts, want a fresh one each time", id, len(stamps), len(sigs), len(rs))
		}
		ds := e.deliveries(id)
		if len(ds) != 4 {
			t.Fatalf("%s: %d attempts logged, want 4: %+v", id, len(ds), ds)
		}
		code := func(i int) int {
			if ds[i].StatusCode == nil {
				return 0
			}
			return *ds[i].StatusCode
		}
		errText := func(i int) string {
			if ds[i].Error == nil {
				return ""
			}
			return *ds[i].Error
		}
		if code(0) != 500 || code(1) != 0 || !strings.Contains(errText(1), "no answer within") ||
			code(2) != 0 || errText(2) != "connection refused" || code(3) != 204 {
			t.Errorf("%s: log %d %q, %d %q, %d %q, %d", id, code(0), errText(0), code(1), errText(1), code(2), errText(2), code(3))
		}
		// On schedule: never before the retry delay (less its jitter).
		for k := 1; k < len(ds); k++ {
			if gap, min := ds[k].StartedAt.Sub(ds[k-1].StartedAt), time.Duration(0.8*float64(retry[k])); gap < min {
				t.Errorf("%s: attempt %d came %v after attempt %d, before the %v retry delay", id, k+1, gap, k, min)
			}
		}
	}
}

// TestDeadLetterAfterTheLastAttempt proves PROMISES D3: past the last
// attempt the event is dead, still pullable, and a supervisor's redelivery
// delivers it.
func TestDeadLetterAfterTheLastAttempt(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ep := newEndpoint(t)
	ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1m", "each"))
	ids := e.addEvents("lj-bank", 2)
	ep.setAnswer(func(http.ResponseWriter, *http.Request) int { return http.StatusBadGateway })
	d := e.deliverer("node-1", push.Config{Retry: []time.Duration{0, 20 * time.Millisecond, 20 * time.Millisecond}})
	e.runUntil(d, "lj-bank", func() bool {
		for _, s := range e.status(ids) {
			if s != "dead" {
				return false
			}
		}
		return true
	})
	if n := len(ep.requests()); n != 6 {
		t.Errorf("%d requests, want 3 attempts for each of 2 events", n)
	}
	dead, err := outbox.DeadLetters(t.Context(), e.db, "lj-bank", 10)
	if err != nil || len(dead) != 2 || dead[0].Attempts != 3 || !strings.HasPrefix(dead[0].LastError, "HTTP 502") {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	if st, _ := d.Run(t.Context(), "lj-bank"); st.Attempts != 0 {
		t.Errorf("a dead letter was pushed again: %+v", st)
	}
	// The pull holds back events while any older transaction in the cluster
	// may be running, other tests' too: wait for both.
	testwait.For(t, func() error {
		page, err := outbox.Pull(t.Context(), e.db, "lj-bank", outbox.Cursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) < 2 {
			return fmt.Errorf("pulled %d events", len(page.Events))
		}
		if len(page.Events) != 2 || page.Events[0].ID != ids[0] {
			t.Fatalf("pull with dead letters: %+v", page)
		}
		return nil
	})
	ep.setAnswer(nil)
	if err := outbox.Redeliver(t.Context(), e.db, ids[0]); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Run(t.Context(), "lj-bank"); err != nil || st.Delivered != 1 {
		t.Fatalf("run after redelivery: %+v, %v", st, err)
	}
	if s := e.status(ids); s[ids[0]] != "delivered" || s[ids[1]] != "dead" {
		t.Errorf("statuses %v", s)
	}
}

// TestPartnerSignals: 410 stops the partner's push, 429 and 503 with
// Retry-After are honoured, and a redirect is a failure, not followed.
func TestPartnerSignals(t *testing.T) {
	t.Parallel()
	t.Run("GoneStopsThePush", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		ep := newEndpoint(t)
		ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1m", "each"))
		ids := e.addEvents("lj-bank", 3)
		ep.setAnswer(func(http.ResponseWriter, *http.Request) int { return http.StatusGone })
		d := e.deliverer("node-1", push.Config{Workers: 1, BatchSize: 1})
		if _, err := d.Run(t.Context(), "lj-bank"); err != nil {
			t.Fatal(err)
		}
		if n := len(ep.requests()); n != 1 {
			t.Errorf("%d requests after a 410, want the run to stop at 1", n)
		}
		p, err := e.reg.PushSettings(t.Context(), "lj-bank")
		if err != nil || p.Enabled {
			t.Fatalf("push still enabled after 410: %+v, %v", p, err)
		}
		if st, _ := d.Run(t.Context(), "lj-bank"); st.Attempts != 0 {
			t.Errorf("pushed after 410: %+v", st)
		}
		for id, s := range e.status(ids) {
			if s != "pending" {
				t.Errorf("%s is %s; after 410 the events wait, pending", id, s)
			}
		}
	})
	for _, c := range []struct {
		name   string
		status int
		header func() string
	}{
		{"TooManyRequestsSeconds", http.StatusTooManyRequests, func() string { return "120" }},
		{"UnavailableHTTPDate", http.StatusServiceUnavailable, func() string { return time.Now().Add(3 * time.Minute).UTC().Format(http.TimeFormat) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			ep := newEndpoint(t)
			ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1m", "each"))
			ids := e.addEvents("lj-bank", 1)
			ep.setAnswer(func(w http.ResponseWriter, _ *http.Request) int {
				w.Header().Set("Retry-After", c.header())
				return c.status
			})
			d := e.deliverer("node-1", push.Config{})
			if _, err := d.Run(t.Context(), "lj-bank"); err != nil {
				t.Fatal(err)
			}
			var wait float64
			if err := e.db.Get(&wait, `SELECT extract(epoch FROM next_attempt_at - now()) FROM events WHERE id = $1`, ids[0]); err != nil {
				t.Fatal(err)
			}
			if wait < 100 {
				t.Errorf("next attempt in %.0f s, want no sooner than Retry-After (about 120 s or more)", wait)
			}
			// Even an event due now waits: the partner is paused on this node.
			e.addEvents("lj-bank", 1)
			if st, _ := d.Run(t.Context(), "lj-bank"); st.Attempts != 0 {
				t.Errorf("pushed to a partner that asked us to wait: %+v", st)
			}
		})
	}
	t.Run("RedirectIsAFailure", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		ep := newEndpoint(t)
		ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1m", "each"))
		ids := e.addEvents("lj-bank", 1)
		ep.setAnswer(func(w http.ResponseWriter, r *http.Request) int {
			w.Header().Set("Location", "/elsewhere")
			return http.StatusFound
		})
		if _, err := e.deliverer("node-1", push.Config{}).Run(t.Context(), "lj-bank"); err != nil {
			t.Fatal(err)
		}
		var lastError string
		if err := e.db.Get(&lastError, `SELECT last_error FROM events WHERE id = $1`, ids[0]); err != nil {
			t.Fatal(err)
		}
		got := ep.requests()
		if len(got) != 1 || e.status(ids)[ids[0]] != "pending" || !strings.Contains(lastError, "redirect") {
			t.Errorf("%d requests (the redirect must not be followed), status %s, error %q", len(got), e.status(ids)[ids[0]], lastError)
		}
	})
}

// TestBatchMode: the provident fund centre gets one document per run with
// every due event in order, and one answer moves them all.
func TestBatchMode(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ep := newEndpoint(t)
	ep.setSecret(e.partner("hf-fund", ep.url(), "0 18 * * *", "batch"))
	ids := e.addEvents("hf-fund", 5)
	ep.setAnswer(func(http.ResponseWriter, *http.Request) int { return http.StatusInternalServerError })
	d := e.deliverer("node-1", push.Config{Retry: []time.Duration{0, 10 * time.Millisecond, 10 * time.Millisecond}})
	if st, err := d.Run(t.Context(), "hf-fund"); err != nil || st.Attempts != 1 || st.Failed != 5 {
		t.Fatalf("failing run: %+v, %v", st, err)
	}
	ep.setAnswer(nil)
	e.runUntil(d, "hf-fund", func() bool { return e.status(ids)[ids[4]] == "delivered" })
	got := ep.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want one failing document and one delivered", len(got))
	}
	for _, r := range got {
		if r.verifyErr != nil || !strings.HasPrefix(r.id, "batch_") {
			t.Errorf("document %s: %v", r.id, r.verifyErr)
		}
	}
	if got[0].id != got[1].id {
		t.Errorf("the same events were sent as %s then %s; the same document keeps its id", got[0].id, got[1].id)
	}
	var doc struct {
		Events []struct{ ID string } `json:"events"`
	}
	if err := json.Unmarshal(got[1].body, &doc); err != nil {
		t.Fatal(err)
	}
	var inDoc []string
	for _, ev := range doc.Events {
		inDoc = append(inDoc, ev.ID)
	}
	if !slices.Equal(inDoc, ids) {
		t.Errorf("document carries %v, want %v in order", inDoc, ids)
	}
	for id, s := range e.status(ids) {
		if s != "delivered" {
			t.Errorf("%s is %s", id, s)
		}
	}
}

// TestSeveralDeliverersNeverRepeatAnAttempt: three nodes' deliverers, with
// no lock between them, work through 1,000 events of one partner at once
// while the partner fails one request in ten; the partner sees each (event,
// attempt) once and every event is delivered (PROMISES D4 and D5, in one
// process; cmd/mortgaged runs three real processes).
func TestSeveralDeliverersNeverRepeatAnAttempt(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ep := newEndpoint(t)
	ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1m", "each"))
	ids := e.addEvents("lj-bank", 1000)
	var n atomic.Int64
	ep.setAnswer(func(http.ResponseWriter, *http.Request) int {
		if n.Add(1)%10 == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	cfg := push.Config{Retry: slices.Repeat([]time.Duration{10 * time.Millisecond}, 20), Workers: 3, BatchSize: 16}
	var wg sync.WaitGroup
	for i := range 3 {
		d := e.deliverer(fmt.Sprintf("node-%d", i+1), cfg)
		wg.Go(func() {
			e.runUntil(d, "lj-bank", func() bool {
				var left int
				if err := e.db.Get(&left, `SELECT count(*) FROM events WHERE status <> 'delivered'`); err != nil {
					t.Error(err)
					return true
				}
				return left == 0
			})
		})
	}
	wg.Wait()
	seen := map[string]int{}
	delivered := map[string]bool{}
	for _, r := range ep.requests() {
		key := r.id + "#" + r.attempt
		seen[key]++
		if seen[key] == 2 {
			t.Errorf("%s attempt %s arrived twice", r.id, r.attempt)
		}
		if r.verifyErr != nil {
			t.Errorf("%s: %v", r.id, r.verifyErr)
		}
		delivered[r.id] = true
	}
	if len(delivered) != len(ids) {
		t.Errorf("%d of %d events reached the partner", len(delivered), len(ids))
	}
	var nodes int
	if err := e.db.Get(&nodes, `SELECT count(DISTINCT node) FROM deliveries`); err != nil || nodes != 3 {
		t.Logf("attempts made by %d nodes", nodes)
	}
	var logged int
	if err := e.db.Get(&logged, `SELECT count(*) FROM deliveries`); err != nil || logged != len(ep.requests()) {
		t.Errorf("%d attempts logged, %d requests received", logged, len(ep.requests()))
	}
}

// TestPushUsesStoredMediaType: each POST carries the media type stored with
// its event, not one guessed from the payload's first byte.
func TestPushUsesStoredMediaType(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ep := newEndpoint(t)
	ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1m", "each"))
	xml := "\n<Event id=\"evt_xml_media\"/>\n"
	if _, err := e.db.Exec(`INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, media_type, next_attempt_at)
		VALUES ('evt_xml_media', 'lj-bank', 'bundle.registered', 'b', now(), $1, 'application/xml', now())`, []byte(xml)); err != nil {
		t.Fatal(err)
	}
	if st, err := e.deliverer("node-1", push.Config{}).Run(t.Context(), "lj-bank"); err != nil || st.Delivered != 1 {
		t.Fatalf("run: %+v, %v", st, err)
	}
	got := ep.requests()
	if len(got) != 1 || got[0].contentType != "application/xml" || string(got[0].body) != xml {
		t.Fatalf("requests %+v, want one application/xml POST of the exact payload", got)
	}
}
