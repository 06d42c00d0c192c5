package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/internal/testwait"
	"mortgaged/partners"
	"mortgaged/sync/pushsig"
)

// testRegistry is a partner registry that seals webhook secrets under the
// master key the tests' processes share.
func testRegistry(t *testing.T, d *sqlx.DB) *partners.Registry {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.New(k)
	if err != nil {
		t.Fatal(err)
	}
	return &partners.Registry{DB: d, Sealer: s}
}

// callbacks is a fake partner core system: one endpoint per partner
// (/PARTNER), verifying every signature and remembering what arrived.
type callbacks struct {
	*httptest.Server
	mu      sync.Mutex
	secrets map[string][]byte
	got     []arrival
	delay   time.Duration
	gate    chan struct{} // when set, answers wait until it is closed
}

type arrival struct {
	partner, id, attempt string
	body                 []byte
	err                  error
}

func newCallbacks(t *testing.T) *callbacks {
	c := &callbacks{secrets: map[string][]byte{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		partner := strings.TrimPrefix(r.URL.Path, "/")
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		key, delay, gate := c.secrets[partner], c.delay, c.gate
		c.mu.Unlock()
		id, err := pushsig.Verify(key, r.Header, body, time.Now(), pushsig.DefaultTolerance)
		c.mu.Lock()
		c.got = append(c.got, arrival{partner, id, r.Header.Get("Mortgaged-Attempt"), body, err})
		c.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
			}
		}
		time.Sleep(delay)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.Close)
	return c
}

// push sets partner's push to this endpoint.
func (c *callbacks) push(t *testing.T, reg *partners.Registry, partner, schedule string) {
	t.Helper()
	key, err := reg.SetPush(t.Context(), partner, c.URL+"/"+partner, schedule, "each")
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.secrets[partner] = key
	c.mu.Unlock()
}

func (c *callbacks) arrivals() []arrival {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]arrival(nil), c.got...)
}

// TestEventDeliveredAfterKillRightAfterCommit proves PROMISES D1 with the
// real binary: the server is killed right after a registration commits,
// before anything is pushed; on restart the registration's event is
// delivered, signed, with the event id written in the registration's
// transaction.
func TestEventDeliveredAfterKillRightAfterCommit(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bank, key := addBank(t, d)
	cb := newCallbacks(t)
	cb.push(t, testRegistry(t, d), bank.ID, "@every 1h")
	body := cleanBundle(t, d, bank, "LJB-D1-1")
	env := []string{"DATABASE_URL=" + url}
	data := t.TempDir()

	// This node pushes nothing, so the event can only leave through the
	// outbox after the restart.
	p := start(t, append(env, "MORTGAGED_PUSH=off"), "serve", "-addr", "127.0.0.1:0", "-data", data)
	status, answer, err := post(p.addr, key, body)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("registration: %d %s %v", status, answer, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	var bundleID string
	var decision struct{ BundleID string }
	if err := json.Unmarshal(answer, &decision); err != nil {
		t.Fatal(err)
	}
	var eventID string
	if err := d.Get(&eventID, `SELECT id FROM events WHERE subject = $1 AND status = 'pending'`, decision.BundleID); err != nil {
		t.Fatalf("the committed registration's event: %v", err)
	}
	bundleID = decision.BundleID

	p = start(t, env, "serve", "-addr", "127.0.0.1:0", "-data", data)
	testwait.For(t, func() error {
		if len(cb.arrivals()) == 0 {
			return errors.New("the event has not been delivered since the restart")
		}
		return nil
	})
	a := cb.arrivals()[0]
	if a.err != nil || a.id != eventID || !strings.Contains(string(a.body), bundleID) {
		t.Fatalf("arrival %s (%v), want %s carrying bundle %s: %s", a.id, a.err, eventID, bundleID, a.body)
	}
	testwait.For(t, func() error {
		var s string
		if err := d.Get(&s, `SELECT status FROM events WHERE id = $1`, eventID); err != nil {
			t.Fatal(err)
		}
		if s != "delivered" {
			return fmt.Errorf("event is %s after delivery", s)
		}
		return nil
	})
	p.terminate()
}

// TestThreeNodesDeliverEachAttemptOnce proves PROMISES D4 with three real
// processes on one database: 1,000 events of four banks, one node killed in
// the middle of its deliveries; every event is delivered and the partners
// see each (event, attempt) once. The killed node's claims come back when
// their lease ends (D6).
func TestThreeNodesDeliverEachAttemptOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	reg := testRegistry(t, d)
	cb := newCallbacks(t)
	// The partners hold their answers until a node has been killed with
	// deliveries in flight; then they answer after a short pause each.
	cb.gate = make(chan struct{})
	cb.delay = 20 * time.Millisecond
	banks := []string{"bank-a", "bank-b", "bank-c", "bank-d"}
	for _, b := range banks {
		if err := reg.Add(t.Context(), partners.Partner{ID: b, Kind: partners.KindBank, Name: b, CreditCode: "91230200MA1BANK01X"}); err != nil {
			t.Fatal(err)
		}
		cb.push(t, reg, b, "@every 1s")
	}
	env := []string{"DATABASE_URL=" + url, "MORTGAGED_PUSH_TIMEOUT=5s", "MORTGAGED_PUSH_LEASE=10s", "MORTGAGED_PUSH_RECONCILE=1s",
		"MORTGAGED_PUSH_RETRY=0s,1s,1s,1s,1s,1s,1s,1s,1s,1s"}
	data := t.TempDir()
	nodes := map[int]*process{}
	for range 3 {
		p := start(t, env, "serve", "-addr", "127.0.0.1:0", "-data", data)
		nodes[p.cmd.Process.Pid] = p
	}
	// The events arrive once every node is up.
	const total = 1000
	if _, err := d.Exec(`INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, next_attempt_at)
		SELECT 'evt_' || lpad(i::text, 5, '0'), ($1::text[])[1 + i % 4], 'bundle.registered', 'b' || i, now(),
			convert_to('{"id":"evt_' || lpad(i::text, 5, '0') || '"}', 'UTF8'), now()
		FROM generate_series(1, $2::int) i`, "{"+strings.Join(banks, ",")+"}", total); err != nil {
		t.Fatal(err)
	}

	// Kill the node that holds the most claims once deliveries are under way.
	var killed int
	testwait.For(t, func() error {
		if len(cb.arrivals()) == 0 {
			return errors.New("no deliveries under way yet")
		}
		var holder string
		err := d.Get(&holder, `SELECT claimed_by FROM events WHERE claimed_until > now() GROUP BY claimed_by ORDER BY count(*) DESC LIMIT 1`)
		if err != nil {
			return fmt.Errorf("no node holds claims: %w", err) // between rounds
		}
		_, pidText, _ := strings.Cut(holder, ":")
		pid, _ := strconv.Atoi(pidText)
		p, ok := nodes[pid]
		if !ok {
			return fmt.Errorf("claims held by %q, not one of the nodes", holder)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		killed = pid
		return nil
	})
	close(cb.gate)
	var inFlight int
	if err := d.Get(&inFlight, `SELECT count(*) FROM events WHERE claimed_by LIKE '%:' || $1::text AND status = 'pending'`, strconv.Itoa(killed)); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed node %d with %d events claimed; %d arrivals so far", killed, inFlight, len(cb.arrivals()))

	testwait.For(t, func() error {
		var left int
		if err := d.Get(&left, `SELECT count(*) FROM events WHERE status <> 'delivered'`); err != nil {
			t.Fatal(err)
		}
		if left > 0 {
			return fmt.Errorf("%d events undelivered since the kill", left)
		}
		return nil
	})
	seen := map[string]int{}
	ids := map[string]bool{}
	for _, a := range cb.arrivals() {
		if a.err != nil {
			t.Errorf("%s at %s: %v", a.id, a.partner, a.err)
		}
		k := a.id + " attempt " + a.attempt
		if seen[k]++; seen[k] == 2 {
			t.Errorf("%s arrived twice", k)
		}
		ids[a.id] = true
	}
	if len(ids) != total {
		t.Errorf("%d of %d events reached the partners", len(ids), total)
	}
	var byNode []struct {
		Node string `db:"node"`
		N    int    `db:"n"`
	}
	if err := d.Select(&byNode, `SELECT node, count(*) AS n FROM deliveries GROUP BY node ORDER BY node`); err != nil {
		t.Fatal(err)
	}
	t.Logf("attempts recorded by node: %+v; %d requests arrived", byNode, len(cb.arrivals()))
	if inFlight > 0 {
		var rescued int
		if err := d.Get(&rescued, `SELECT count(*) FROM events WHERE attempts > 1`); err != nil || rescued == 0 {
			t.Errorf("no event needed a second attempt although the killed node held %d claims (%v)", inFlight, err)
		}
	}
	for _, p := range nodes {
		if p.cmd.Process.Pid != killed {
			p.terminate()
		}
	}
	_ = fmt.Sprint
}

// TestPushCommands drives the administrator's and the supervisor's commands:
// set a partner's push (the secret shown once), show it, rotate the secret,
// list dead letters and redeliver one.
func TestPushCommands(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bank, _ := addBank(t, d)
	env := []string{"DATABASE_URL=" + url}
	data := t.TempDir()

	out, errOut, code := runBinary(t, env, "partner", "push", bank.ID, "-callback", "https://core.bank.example/events", "-schedule", "0 18 * * *", "-mode", "batch", "-data", data)
	if code != 0 || !strings.Contains(out, "whsec_") {
		t.Fatalf("partner push: %d %s %s", code, out, errOut)
	}
	secret := out[strings.Index(out, "whsec_"):]
	secret = strings.TrimSpace(secret)
	key, err := pushsig.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	p, err := testRegistry(t, d).PushSettings(t.Context(), bank.ID)
	if err != nil || string(p.Secret) != string(key) || p.Mode != "batch" || p.Schedule != "0 18 * * *" || !p.Active() {
		t.Fatalf("settings after partner push: %+v, %v", p, err)
	}
	out, _, code = runBinary(t, env, "partner", "push", bank.ID, "-data", data)
	if code != 0 || !strings.Contains(out, "0 18 * * *") || strings.Contains(out, "whsec_") {
		t.Errorf("partner push ID (show): %d %s", code, out)
	}
	if _, errOut, code := runBinary(t, env, "partner", "push", bank.ID, "-callback", "https://x.example/", "-schedule", "every day", "-data", data); code == 0 {
		t.Errorf("a bad schedule was accepted: %s", errOut)
	}
	out, _, code = runBinary(t, env, "partner", "webhook-secret", bank.ID, "-data", data)
	if code != 0 || !strings.Contains(out, "whsec_") || strings.Contains(out, secret) {
		t.Errorf("partner webhook-secret: %d %s", code, out)
	}

	if _, err := d.Exec(`INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, next_attempt_at, status, attempts, last_error)
		VALUES ('evt_dead_1', $1, 'bundle.registered', 'b1', now(), '{}', now(), 'dead', 10, 'HTTP 502')`, bank.ID); err != nil {
		t.Fatal(err)
	}
	out, _, code = runBinary(t, env, "events", "dead", "-partner", bank.ID, "-data", data)
	if code != 0 || !strings.Contains(out, "evt_dead_1") || !strings.Contains(out, "HTTP 502") {
		t.Errorf("events dead: %d %s", code, out)
	}
	if out, errOut, code := runBinary(t, env, "events", "redeliver", "evt_dead_1", "-data", data); code != 0 {
		t.Fatalf("events redeliver: %d %s %s", code, out, errOut)
	}
	var status string
	if err := d.Get(&status, `SELECT status FROM events WHERE id = 'evt_dead_1'`); err != nil || status != "pending" {
		t.Errorf("after redeliver the event is %s (%v)", status, err)
	}
	if _, errOut, code := runBinary(t, env, "events", "redeliver", "evt_dead_1", "-data", data); code == 0 || !strings.Contains(errOut, "not a dead letter") {
		t.Errorf("redelivering a pending event: %d %s", code, errOut)
	}
}
