package push_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/internal/testwait"
	"mortgaged/partners"
	"mortgaged/sync/push"
	"mortgaged/sync/pushsig"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }

// env is one test's database, partner registry and fake partner endpoint.
type env struct {
	t      *testing.T
	db     *sqlx.DB
	reg    *partners.Registry
	events int // how many events events has written
}

func setup(t *testing.T) *env {
	t.Helper()
	d := pgtest.Open(t)
	sealer, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: d, reg: &partners.Registry{DB: d, Sealer: sealer}}
}

// partner adds a partner pushing to url and returns its secret as written
// for the partner ("whsec_…").
func (e *env) partner(id, url, schedule, mode string) string {
	e.t.Helper()
	if err := e.reg.Add(e.t.Context(), partners.Partner{ID: id, Kind: partners.KindBank, Name: id, CreditCode: "91230200MA1BANK01X"}); err != nil {
		e.t.Fatal(err)
	}
	key, err := e.reg.SetPush(e.t.Context(), id, url, schedule, mode)
	if err != nil || key == nil {
		e.t.Fatalf("set push: %v", err)
	}
	return pushsig.FormatSecret(key)
}

// events writes n pending events for partner as the registration would and
// returns their ids in order.
func (e *env) addEvents(partner string, n int) []string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		e.events++
		ids[i] = fmt.Sprintf("evt_%s_%06d", partner, e.events)
		body := fmt.Sprintf(`{"id":%q,"type":"bundle.registered","occurredAt":%q}`, ids[i], time.Now().Format(time.RFC3339Nano))
		if _, err := e.db.Exec(`INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, next_attempt_at)
			VALUES ($1, $2, 'bundle.registered', 'b', now(), $3, now())`, ids[i], partner, body); err != nil {
			e.t.Fatal(err)
		}
	}
	return ids
}

func (e *env) deliverer(node string, cfg push.Config) *push.Deliverer {
	return push.NewDeliverer(e.db, e.reg, node, cfg, slog.New(slog.NewTextHandler(testLog{e.t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// status returns each event's status.
func (e *env) status(ids []string) map[string]string {
	e.t.Helper()
	rows := []struct {
		ID     string `db:"id"`
		Status string `db:"status"`
	}{}
	if err := e.db.Select(&rows, `SELECT id, status FROM events`); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.ID] = r.Status
	}
	return out
}

// runUntil runs d for partner until done says so (testwait.For bounds it,
// so a broken push cannot hang the tests).
func (e *env) runUntil(d *push.Deliverer, partner string, done func() bool) {
	e.t.Helper()
	testwait.For(e.t, func() error {
		if done() {
			return nil
		}
		if _, err := d.Run(e.t.Context(), partner); err != nil {
			e.t.Fatal(err)
		}
		return fmt.Errorf("the push to %s is not there yet: %v", partner, e.status(nil))
	})
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// received is one request as the fake partner saw it.
type received struct {
	path, id, timestamp, signature, attempt, contentType string
	body                                                 []byte
	verifyErr                                            error
}

// partnerEndpoint is a fake bank callback on loopback that can be stopped
// (connection refused) and started again on the same address.
type partnerEndpoint struct {
	t      *testing.T
	secret string
	addr   string
	mu     sync.Mutex
	got    []received
	answer func(w http.ResponseWriter, r *http.Request) int // the status to answer (headers may be set on w); nil: 204
	srv    *http.Server
}

func newEndpoint(t *testing.T) *partnerEndpoint {
	p := &partnerEndpoint{t: t}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *partnerEndpoint) url() string { return "http://" + p.addr + "/callback" }

func (p *partnerEndpoint) start() {
	p.t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	testwait.For(p.t, func() (err error) { // the port may linger for a moment after stop
		ln, err = net.Listen("tcp", addr)
		return err
	})
	p.addr = ln.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
}

func (p *partnerEndpoint) stop() {
	if p.srv != nil {
		p.srv.Close()
		p.srv = nil
	}
}

func (p *partnerEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := received{path: r.URL.Path, id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"),
		signature: r.Header.Get("webhook-signature"), attempt: r.Header.Get(push.AttemptHeader),
		contentType: r.Header.Get("Content-Type"), body: body}
	p.mu.Lock()
	rec.verifyErr = verifyFromSpec(p.secret, r.Header, body, time.Now())
	p.got = append(p.got, rec)
	answer := p.answer
	p.mu.Unlock()
	status := http.StatusNoContent
	if answer != nil {
		status = answer(w, r)
	}
	w.WriteHeader(status)
}

func (p *partnerEndpoint) requests() []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]received(nil), p.got...)
}

func (p *partnerEndpoint) setAnswer(f func(w http.ResponseWriter, r *http.Request) int) {
	p.mu.Lock()
	p.answer = f
	p.mu.Unlock()
}

// verifyFromSpec checks a delivery the way a partner that never saw our code
// would, written from the Standard Webhooks specification: the key is the
// base64 after "whsec_"; the signed content is id "." timestamp "." body;
// the header holds space-separated "v1,<base64 HMAC-SHA256>"; the timestamp
// must be within five minutes.
func verifyFromSpec(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %v", err)
	}
	id, ts, sigs := h.Get("Webhook-Id"), h.Get("Webhook-Timestamp"), h.Get("Webhook-Signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing headers")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s off", d)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Split(sigs, " ") {
		version, sig, _ := strings.Cut(s, ",")
		if version == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

func (p *partnerEndpoint) setSecret(s string) {
	p.mu.Lock()
	p.secret = s
	p.mu.Unlock()
}
