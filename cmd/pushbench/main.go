// Command pushbench measures the push: how many deliveries a second one node
// makes to a partner endpoint on this machine, and how long an event waits
// from its commit to its arrival when the partner's schedule is one second.
//
//	go run ./cmd/pushbench [-events 20000] [-rate 200 -seconds 20] [-workers 4 -batch 64]
//
// It starts a private PostgreSQL cluster with fsync on (or uses
// DATABASE_URL, into which it writes a partner and events), serves the
// partner's callback on loopback, verifies every signature there as a bank
// would, and removes everything it made when done. docs/BENCHMARKS.md
// records its results.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // Asia/Shanghai on a host without a zoneinfo database

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/app"
	"mortgaged/internal/benchproc"
	"mortgaged/internal/config"
	"mortgaged/internal/db"
	"mortgaged/internal/seal"
	"mortgaged/partners"
	"mortgaged/sync/push"
	"mortgaged/sync/pushsig"
)

type options struct {
	events, payload, workers, batch int
	rate, seconds                   int
	delay                           time.Duration
	keep                            bool
}

func main() {
	var o options
	flag.IntVar(&o.events, "events", 20000, "events in the throughput run")
	flag.IntVar(&o.payload, "payload", 3000, "bytes of each event's payload (a registered event with its certificate is about 3 KB)")
	flag.IntVar(&o.workers, "workers", 0, "claim rounds at once per partner (0: the server's default)")
	flag.IntVar(&o.batch, "batch", 0, "events claimed and POSTed at once per round (0: the server's default)")
	flag.IntVar(&o.rate, "rate", 200, "events committed per second in the latency run")
	flag.IntVar(&o.seconds, "seconds", 20, "length of the latency run")
	flag.DurationVar(&o.delay, "delay", 0, "the endpoint answers after this long (a partner across a network)")
	flag.BoolVar(&o.keep, "keep", false, "keep the private cluster's folder")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "pushbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	d, cleanup, pgVersion, err := openDatabase(ctx, o.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	sealer, err := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	if err != nil {
		return err
	}
	reg := &partners.Registry{DB: d, Sealer: sealer}
	ep, err := startEndpoint(o.delay)
	if err != nil {
		return err
	}
	defer ep.srv.Close()

	fmt.Printf("pushbench: %d cores (GOMAXPROCS %d), %s, %s, %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), pgVersion, runtime.GOOS, runtime.GOARCH)
	cfg := push.Config{Workers: o.workers, BatchSize: o.batch}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// 1. Throughput: a backlog drained by one node.
	if err := addPartner(ctx, reg, "bench-bank", ep, "@every 1h"); err != nil {
		return err
	}
	t0 := time.Now()
	if err := insertBacklog(ctx, d, "bench-bank", o.events, o.payload); err != nil {
		return err
	}
	fmt.Printf("\nthroughput: %d events of %d bytes queued in %.1f s; the endpoint answers after %v\n", o.events, o.payload, time.Since(t0).Seconds(), o.delay)
	dl := push.NewDeliverer(d, reg, push.NodeID(), cfg, log)
	eff := dl.Config()
	ep.reset()
	start := time.Now()
	var cpuStart = cpuSeconds()
	for ep.accepted.Load() < int64(o.events) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := dl.Run(ctx, "bench-bank"); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	cpu := cpuSeconds() - cpuStart
	var left int
	if err := d.GetContext(ctx, &left, `SELECT count(*) FROM events WHERE partner_id = 'bench-bank' AND status <> 'delivered'`); err != nil {
		return err
	}
	fmt.Printf("  delivered %d in %.2f s: %.0f deliveries/s (workers %d × batch %d; %d requests, %d bad signatures; %d not yet marked delivered)\n",
		o.events, elapsed.Seconds(), float64(o.events)/elapsed.Seconds(), eff.Workers, eff.BatchSize, ep.requests.Load(), ep.bad.Load(), left)
	fmt.Printf("  CPU of this process (deliverer and endpoint): %.1f s, %.0f%% of one core\n", cpu, 100*cpu/elapsed.Seconds())

	// 2. Latency: a steady stream of commits, the partner on a one-second schedule.
	if o.seconds <= 0 {
		return nil
	}
	if err := addPartner(ctx, reg, "bench-latency", ep, "@every 1s"); err != nil {
		return err
	}
	// The scheduler as `mortgaged serve` starts it (internal/app), with
	// this run's workers and batch size.
	c := config.Defaults()
	c.Push.Config.Workers, c.Push.Config.BatchSize = cfg.Workers, cfg.BatchSize
	c.Push.Reconcile = time.Minute
	s, err := app.StartPush(ctx, c, d, reg, log)
	if err != nil {
		return err
	}
	defer s.Shutdown(context.Background())
	ep.reset()
	total := o.rate * o.seconds
	fmt.Printf("\ncommit → delivery: %d events at %d/s for %d s, each committed in its own transaction; schedule @every 1s\n", total, o.rate, o.seconds)
	committed := make(map[string]time.Time, total)
	var mu sync.Mutex
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	payload := strings.Repeat("x", max(o.payload-100, 0))
	for i := range total {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		id := fmt.Sprintf("evt_lat_%07d", i)
		body := fmt.Sprintf(`{"id":%q,"type":"bundle.registered","pad":%q}`, id, payload)
		if _, err := d.ExecContext(ctx, `INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, next_attempt_at)
			VALUES ($1, 'bench-latency', 'bundle.registered', 'b', now(), $2, now())`, id, []byte(body)); err != nil {
			return err
		}
		mu.Lock()
		committed[id] = time.Now() // the INSERT's autocommit has returned
		mu.Unlock()
	}
	deadline := time.Now().Add(30 * time.Second)
	for ep.accepted.Load() < int64(total) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	arrivals := ep.arrivals()
	var delays []time.Duration
	for id, at := range arrivals {
		if c, ok := committed[id]; ok {
			delays = append(delays, at.Sub(c))
		}
	}
	if len(delays) < total {
		return fmt.Errorf("only %d of %d events arrived", len(delays), total)
	}
	slices.Sort(delays)
	q := func(f float64) time.Duration { return delays[min(len(delays)-1, int(f*float64(len(delays))))] }
	fmt.Printf("  delay: min %v  p50 %v  p95 %v  p99 %v  max %v  (%d events, %d bad signatures)\n",
		delays[0].Round(time.Millisecond), q(0.5).Round(time.Millisecond), q(0.95).Round(time.Millisecond),
		q(0.99).Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond), len(delays), ep.bad.Load())
	return nil
}

func addPartner(ctx context.Context, reg *partners.Registry, id string, ep *endpoint, schedule string) error {
	if err := reg.Add(ctx, partners.Partner{ID: id, Kind: partners.KindBank, Name: id, CreditCode: "91230200MA1BANK01X"}); err != nil {
		return err
	}
	key, err := reg.SetPush(ctx, id, ep.url, schedule, partners.PushEach)
	if err != nil {
		return err
	}
	ep.setKey(key)
	return nil
}

func insertBacklog(ctx context.Context, d *sqlx.DB, partner string, n, size int) error {
	_, err := d.ExecContext(ctx, `INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, next_attempt_at)
		SELECT 'evt_bench_' || i, $1, 'bundle.registered', 'b' || i, now(),
			convert_to('{"id":"evt_bench_' || i || '","type":"bundle.registered","pad":"' || repeat('x', greatest($3::int - 100, 0)) || '"}', 'UTF8'), now()
		FROM generate_series(1, $2::int) i`, partner, n, size)
	return err
}

// endpoint is the partner's callback: it verifies each signature as a bank
// would and notes when each event arrived.
type endpoint struct {
	url                     string
	delay                   time.Duration
	srv                     *http.Server
	key                     atomic.Pointer[[]byte]
	requests, accepted, bad atomic.Int64
	mu                      sync.Mutex
	at                      map[string]time.Time
}

func startEndpoint(delay time.Duration) (*endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ep := &endpoint{url: "http://" + ln.Addr().String() + "/callback", delay: delay, at: map[string]time.Time{}}
	ep.srv = &http.Server{Handler: http.HandlerFunc(ep.serve), ReadHeaderTimeout: 10 * time.Second}
	go ep.srv.Serve(ln)
	return ep, nil
}

func (ep *endpoint) setKey(k []byte) { ep.key.Store(&k) }

func (ep *endpoint) reset() {
	ep.requests.Store(0)
	ep.accepted.Store(0)
	ep.mu.Lock()
	ep.at = map[string]time.Time{}
	ep.mu.Unlock()
}

func (ep *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	ep.requests.Add(1)
	id, err := pushsig.Verify(*ep.key.Load(), r.Header, body, now, pushsig.DefaultTolerance)
	if err != nil {
		ep.bad.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	ep.mu.Lock()
	if _, dup := ep.at[id]; !dup {
		ep.at[id] = now
		ep.accepted.Add(1)
	}
	ep.mu.Unlock()
	time.Sleep(ep.delay)
	w.WriteHeader(http.StatusNoContent)
}

func (ep *endpoint) arrivals() map[string]time.Time {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	out := make(map[string]time.Time, len(ep.at))
	for k, v := range ep.at {
		out[k] = v
	}
	return out
}

// cpuSeconds is this process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// openDatabase uses DATABASE_URL or starts a private, durable cluster.
func openDatabase(ctx context.Context, keep bool) (*sqlx.DB, func(), string, error) {
	var cleanup []func()
	done := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	var d *sqlx.DB
	if url := os.Getenv("DATABASE_URL"); url == "" {
		cl, err := benchproc.StartCluster(ctx, "pushbench-", keep, false)
		if err != nil {
			return nil, nil, "", err
		}
		cleanup = append(cleanup, func() { cl.Close() })
		if d, err = cl.Database(ctx, "pushbench"); err != nil {
			done()
			return nil, nil, "", err
		}
	} else {
		var err error
		if d, err = db.Open(ctx, url); err != nil {
			return nil, nil, "", err
		}
		if _, err := db.Migrate(ctx, d, nil); err != nil {
			d.Close()
			return nil, nil, "", err
		}
	}
	cleanup = append(cleanup, func() { d.Close() })
	var version string
	if err := d.GetContext(ctx, &version, `SELECT 'PostgreSQL ' || current_setting('server_version')`); err != nil {
		done()
		return nil, nil, "", err
	}
	if os.Getenv("DATABASE_URL") != "" {
		// Leave a shared database as we found it.
		cleanup = append(cleanup, func() {
			d.Exec(`DELETE FROM deliveries WHERE event_id LIKE 'evt_bench_%' OR event_id LIKE 'evt_lat_%'`)
			d.Exec(`DELETE FROM events WHERE partner_id IN ('bench-bank', 'bench-latency')`)
			d.Exec(`DELETE FROM partners WHERE id IN ('bench-bank', 'bench-latency')`)
		})
	}
	return d, done, version, nil
}
