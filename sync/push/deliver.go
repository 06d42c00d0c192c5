package push

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/partners"
	"mortgaged/partners/fundbatch"
	"mortgaged/sync/outbox"
	"mortgaged/sync/pushsig"
)

// AttemptHeader tells the partner which attempt a request is (1, 2, …). It
// is information only: partners deduplicate on webhook-id.
const AttemptHeader = "Mortgaged-Attempt"

// Config tunes delivery; zero fields take the defaults.
type Config struct {
	Timeout       time.Duration   // one POST, answer included (20 s)
	Lease         time.Duration   // how long a claim is ours before another node may rescue it (60 s; more than Timeout)
	Retry         []time.Duration // delay before each attempt; its length is the number of attempts (DefaultRetry)
	Jitter        float64         // ± fraction applied to each retry delay (0.2)
	BatchSize     int             // events claimed at a time in each mode, all POSTed at once (32)
	Workers       int             // claim rounds running at once for one partner (2)
	MaxDocument   int             // events in one batch-mode document (1000)
	MaxRetryAfter time.Duration   // longest Retry-After honoured (24 h)
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 20 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 60 * time.Second
	}
	if c.Lease < c.Timeout+5*time.Second {
		c.Lease = c.Timeout + 5*time.Second // a claim must outlive its POST and its record
	}
	if len(c.Retry) == 0 {
		c.Retry = DefaultRetry
	}
	if c.Jitter == 0 {
		c.Jitter = 0.2
	}
	if c.Jitter < 0 {
		c.Jitter = 0 // tests ask for none with a negative value
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 32
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.MaxDocument <= 0 {
		c.MaxDocument = 1000
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = 24 * time.Hour
	}
	return c
}

// NodeID names this process among the nodes: host name and process id.
func NodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// NewClient is the HTTP client for callbacks: it follows no redirect (a 3xx
// is a failure: the partner must give us its final URL) and keeps
// connections to each partner alive.
func NewClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	tr.MaxIdleConns = 512
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Deliverer POSTs partners' due events to their callbacks.
type Deliverer struct {
	DB       *sqlx.DB
	Registry *partners.Registry
	Client   *http.Client
	Node     string
	Log      *slog.Logger
	// Now stamps webhook-timestamp; tests inject a clock.
	Now func() time.Time

	cfg    Config
	mu     sync.Mutex
	paused map[string]time.Time // partner → no run before (429, 503)
}

// NewDeliverer makes a deliverer for node with the real clock and a fresh client.
func NewDeliverer(db *sqlx.DB, reg *partners.Registry, node string, cfg Config, log *slog.Logger) *Deliverer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deliverer{DB: db, Registry: reg, Client: NewClient(), Node: node, Log: log, Now: time.Now,
		cfg: cfg.withDefaults(), paused: map[string]time.Time{}}
}

// Config is the configuration in force, defaults filled in.
func (d *Deliverer) Config() Config { return d.cfg }

// Stats counts one run's attempts.
type Stats struct {
	Attempts  int // POSTs answered or not
	Delivered int // events the partner now has
	Failed    int // events to retry
	Dead      int // events given up on
}

func (s *Stats) add(o Stats) {
	s.Attempts += o.Attempts
	s.Delivered += o.Delivered
	s.Failed += o.Failed
	s.Dead += o.Dead
}

// Run delivers the partner's due events once, as the partner's scheduled job
// does: in each mode every due event in its own POST, in batch mode every
// due event in one document. It returns when nothing is due, when the
// partner asks us to stop or slow down, or when ctx ends (POSTs in flight
// finish, bounded by the timeout, and are recorded).
func (d *Deliverer) Run(ctx context.Context, partnerID string) (Stats, error) {
	p, err := d.Registry.PushSettings(ctx, partnerID)
	if errors.Is(err, partners.ErrNotFound) {
		return Stats{}, nil
	}
	if err != nil {
		return Stats{}, err
	}
	if !p.Active() || d.isPaused(partnerID) {
		return Stats{}, nil
	}
	if p.Mode == partners.PushBatch {
		return d.runBatch(ctx, p)
	}
	return d.runEach(ctx, p)
}

// attempt is one POST and what came of it.
type attempt struct {
	started    time.Time
	duration   time.Duration
	status     int
	err        string
	ok         bool
	gone       bool          // 410: stop pushing to this partner
	retryAfter time.Duration // 429 or 503 with Retry-After
	throttled  bool
}

func (d *Deliverer) runEach(ctx context.Context, p partners.Push) (Stats, error) {
	var (
		mu    sync.Mutex
		total Stats
		first error
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for range d.cfg.Workers {
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				evs, err := outbox.Claim(ctx, d.DB, p.PartnerID, d.Node, d.cfg.Lease, d.cfg.BatchSize)
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						first = cmpErr(first, err)
						mu.Unlock()
					}
					return
				}
				if len(evs) == 0 {
					return
				}
				atts := make([]attempt, len(evs))
				var posts sync.WaitGroup
				for i, e := range evs {
					posts.Go(func() {
						atts[i] = d.post(ctx, p, e.ID, e.MediaType, e.Payload, strconv.Itoa(e.Attempt))
					})
				}
				posts.Wait()
				st, err := d.record(ctx, p, evs, atts, false)
				st.Attempts = len(evs)
				mu.Lock()
				total.add(st)
				first = cmpErr(first, err)
				mu.Unlock()
				if halt := d.react(ctx, p, atts); err != nil || halt {
					stop.Store(true)
					return
				}
				if len(evs) < d.cfg.BatchSize {
					return // nothing more is due
				}
			}
		})
	}
	wg.Wait()
	return total, first
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// batchDocument is the batch-mode body: every event's payload, in order.
type batchDocument struct {
	Events []json.RawMessage `json:"events"`
}

// batchBody is one delivery's document: the fund centre's own event file
// when the events are its XML documents, else a JSON {"events": […]}.
func batchBody(doc batchDocument, evs []outbox.Claimed) ([]byte, string, error) {
	xmlEvents := make([][]byte, 0, len(evs))
	for _, e := range evs {
		if e.MediaType != "application/xml" {
			b, err := json.Marshal(doc)
			return b, "application/json", err
		}
		xmlEvents = append(xmlEvents, e.Payload)
	}
	b, err := fundbatch.EventFile(xmlEvents, time.Now(), time.UTC)
	return b, "application/xml", err
}

func (d *Deliverer) runBatch(ctx context.Context, p partners.Push) (Stats, error) {
	var total Stats
	for ctx.Err() == nil {
		evs, err := outbox.Claim(ctx, d.DB, p.PartnerID, d.Node, d.cfg.Lease, d.cfg.MaxDocument)
		if err != nil {
			if ctx.Err() != nil {
				return total, nil
			}
			return total, err
		}
		if len(evs) == 0 {
			return total, nil
		}
		doc := batchDocument{Events: make([]json.RawMessage, len(evs))}
		ids := sha256.New()
		top := 0
		for i, e := range evs {
			doc.Events[i] = PayloadJSON(e.Payload, e.MediaType)
			ids.Write([]byte(e.ID + "\n"))
			top = max(top, e.Attempt)
		}
		body, contentType, err := batchBody(doc, evs)
		if err != nil {
			return total, fmt.Errorf("batch document for %s: %w", p.PartnerID, err)
		}
		// The same events make the same message id, so a retry of an
		// unchanged document is recognisable; each event keeps its own id
		// inside the document.
		id := "batch_" + hex.EncodeToString(ids.Sum(nil)[:12])
		a := d.post(ctx, p, id, contentType, body, strconv.Itoa(top))
		atts := make([]attempt, len(evs))
		for i := range atts {
			atts[i] = a
		}
		st, err := d.record(ctx, p, evs, atts, true)
		st.Attempts = 1
		total.add(st)
		if err != nil {
			return total, err
		}
		if d.react(ctx, p, atts[:1]) || !a.ok || len(evs) < d.cfg.MaxDocument {
			return total, nil
		}
	}
	return total, nil
}

// post sends one signed request. It is not cut short by ctx (shutdown): a
// POST in flight ends by its answer or its timeout and is then recorded.
func (d *Deliverer) post(ctx context.Context, p partners.Push, id, contentType string, body []byte, attemptNo string) attempt {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.Timeout)
	defer cancel()
	a := attempt{started: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.CallbackURL, bytes.NewReader(body))
	if err != nil {
		a.err = "bad callback URL: " + err.Error()
		a.duration = time.Since(a.started)
		return a
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "mortgaged-push/1")
	req.Header.Set(AttemptHeader, attemptNo)
	pushsig.SetHeaders(req.Header, p.Secret, id, d.Now(), body)
	res, err := d.Client.Do(req)
	if err != nil {
		a.err = describe(err, d.cfg.Timeout)
		a.duration = time.Since(a.started)
		return a
	}
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // let the connection be reused
	res.Body.Close()
	a.duration = time.Since(a.started)
	a.status = res.StatusCode
	switch code := res.StatusCode; {
	case code >= 200 && code < 300:
		a.ok = true
	case code == http.StatusGone:
		a.gone, a.err = true, "410 Gone: the partner asked us to stop pushing"
	case code >= 300 && code < 400:
		a.err = fmt.Sprintf("%d redirect to %q not followed: the callback must be the final URL", code, res.Header.Get("Location"))
	default:
		a.err = fmt.Sprintf("HTTP %d", code)
		if s := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); s != "" {
			a.err += ": " + s
		}
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			if ra, ok := retryAfter(res.Header, time.Now()); ok {
				a.throttled, a.retryAfter = true, min(ra, d.cfg.MaxRetryAfter)
			}
		}
	}
	return a
}

// describe says in a few words why a request got no answer.
func describe(err error, timeout time.Duration) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no answer within %v", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	return err.Error()
}

// outcome applies the retry policy to one attempt of an event; factor is
// the jitter drawn for it.
func (d *Deliverer) outcome(a attempt, attemptNo int, factor float64) (outbox.Outcome, time.Duration) {
	switch {
	case a.ok:
		return outbox.Delivered, 0
	case a.gone:
		// Not the event's fault: it waits, due at once, for the push to
		// be turned on again, and stays available to pull meanwhile.
		return outbox.Retry, 0
	case attemptNo >= len(d.cfg.Retry):
		return outbox.Dead, 0
	}
	delay := time.Duration(float64(d.cfg.Retry[attemptNo]) * factor)
	if a.throttled && a.retryAfter > delay {
		delay = a.retryAfter
	}
	return outbox.Retry, delay
}

// record writes the attempts of one round and counts the events' outcomes. It runs
// even after ctx ends: the POSTs happened and must be recorded. Events POSTed
// one by one get a jitter each; the events of one batch document share one,
// so they come due again together and travel in one document again.
func (d *Deliverer) record(ctx context.Context, p partners.Push, evs []outbox.Claimed, atts []attempt, oneDocument bool) (Stats, error) {
	rs := make([]outbox.Result, len(evs))
	var st Stats
	shared := jitterFactor(d.cfg.Jitter)
	for i, e := range evs {
		a := atts[i]
		factor := shared
		if !oneDocument {
			factor = jitterFactor(d.cfg.Jitter)
		}
		o, delay := d.outcome(a, e.Attempt, factor)
		rs[i] = outbox.Result{EventID: e.ID, Attempt: e.Attempt, StartedAt: a.started, Duration: a.duration,
			StatusCode: a.status, Error: a.err, Outcome: o, RetryIn: delay}
		switch o {
		case outbox.Delivered:
			st.Delivered++
		case outbox.Dead:
			st.Dead++
			d.Log.Warn("event dead-lettered", slog.String("partner", p.PartnerID), slog.String("event", e.ID),
				slog.Int("attempts", e.Attempt), slog.String("error", a.err))
		default:
			st.Failed++
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := outbox.Record(rctx, d.DB, d.Node, rs); err != nil {
		// The claims run out and the events are retried: at least once.
		return st, err
	}
	return st, nil
}

// react handles what the partner told us about itself: 410 stops its push,
// 429 or 503 with Retry-After pauses it on this node. It reports whether the
// run should stop.
func (d *Deliverer) react(ctx context.Context, p partners.Push, atts []attempt) bool {
	stop := false
	for _, a := range atts {
		switch {
		case a.gone:
			stop = true
		case a.throttled:
			d.pause(p.PartnerID, a.retryAfter)
			stop = true
		}
	}
	for _, a := range atts {
		if a.gone {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := d.Registry.StopPush(sctx, p.PartnerID)
			cancel()
			// An alert: somebody must talk to the partner.
			d.Log.Error("ALERT: partner answered 410 Gone; its push is stopped until an administrator sets it again (mortgaged partner push)",
				slog.String("partner", p.PartnerID), slog.String("callback", p.CallbackURL), slog.Any("stop_error", err))
			break
		}
	}
	return stop
}

func (d *Deliverer) pause(partnerID string, wait time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	until := time.Now().Add(wait)
	if until.After(d.paused[partnerID]) {
		d.paused[partnerID] = until
	}
}

func (d *Deliverer) isPaused(partnerID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.paused[partnerID]
	if ok && !time.Now().Before(until) {
		delete(d.paused, partnerID)
		return false
	}
	return ok
}

// PayloadJSON is a payload of the given media type (as stored with the
// event) as a member of a JSON document: JSON as it is, anything else (the
// XML of an XML partner) as a JSON string holding the exact text.
func PayloadJSON(payload []byte, mediaType string) json.RawMessage {
	if mediaType == "application/json" {
		return payload
	}
	b, _ := json.Marshal(string(payload))
	return b
}
