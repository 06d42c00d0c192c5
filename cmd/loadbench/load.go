package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/partners/centrejson"
	pclient "mortgaged/partners/client"
)

// client posts bundles as a bank's core system would, each request signed
// with the partner's key (partners/client: fresh nonce, body digest, HMAC).
type client struct{ pc *pclient.Client }

// newClient keeps one idle keep-alive connection per phase-1 client, so no
// request pays for a TCP handshake the server would not see in production
// either (banks hold connections open).
func newClient(baseURL, key string, conns int) (*client, error) {
	pc, err := pclient.New(baseURL, key)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	pc.HTTP = &http.Client{Transport: tr, Timeout: time.Minute}
	return &client{pc: pc}, nil
}

// outcome is one answer: registered, or what it was instead.
type outcome struct {
	status     int // 0 for a transport error
	registered bool
	problem    string // start of the answer (or the error) when not registered
}

func (c *client) submit(ctx context.Context, body []byte) outcome {
	resp, err := c.pc.Do(ctx, http.MethodPost, "/v1/bundles", nil, centrejson.MediaType, body)
	if err != nil {
		return outcome{problem: err.Error()}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return outcome{status: resp.StatusCode, problem: err.Error()}
	}
	// A 201 may also be a rejection: only "registered" counts.
	if resp.StatusCode == http.StatusCreated && bytes.Contains(answer, []byte(`"status":"registered"`)) {
		return outcome{status: resp.StatusCode, registered: true}
	}
	return outcome{status: resp.StatusCode, problem: string(answer[:min(len(answer), 300)])}
}

// checkSample registers one bundle before the phases and insists it is a
// clean 201 registered: a benchmark of rejections would measure nothing.
func checkSample(ctx context.Context, c *client, body []byte) (outcome, error) {
	o := c.submit(ctx, body)
	if !o.registered {
		return o, fmt.Errorf("sample registration: want 201 registered, got %d: %s", o.status, o.problem)
	}
	step("sample registration: 201 registered")
	return o, nil
}

// tally counts outcomes.
type tally struct {
	sent, registered int
	other            map[int]int // status (0: transport error) → count, for answers other than registered
	example          string      // the first such answer
}

func (t *tally) add(o outcome) {
	t.sent++
	if o.registered {
		t.registered++
		return
	}
	if t.other == nil {
		t.other = map[int]int{}
	}
	t.other[o.status]++
	if t.example == "" {
		t.example = fmt.Sprintf("%d %s", o.status, o.problem)
	}
}

func (t *tally) merge(u tally) {
	t.sent += u.sent
	t.registered += u.registered
	for s, n := range u.other {
		if t.other == nil {
			t.other = map[int]int{}
		}
		t.other[s] += n
	}
	if t.example == "" {
		t.example = u.example
	}
}

// dist summarises latencies.
type dist struct {
	n                  int
	p50, p95, p99, max time.Duration
}

// distribution uses nearest-rank percentiles: the p99 is a latency some
// request actually had.
func distribution(ls []time.Duration) dist {
	if len(ls) == 0 {
		return dist{}
	}
	s := slices.Clone(ls)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[max(0, int(math.Ceil(q*float64(len(s))))-1)] }
	return dist{n: len(s), p50: at(0.50), p95: at(0.95), p99: at(0.99), max: s[len(s)-1]}
}

// phaseResult is what a load phase measured.
type phaseResult struct {
	name    string
	elapsed time.Duration // first send to last answer
	tally   tally
	lat     dist
	ranOut  bool          // phase 1 used up its units before the deadline
	maxLag  time.Duration // phase 2: latest a request left after its scheduled time
	cpu     cpuUse
	pool    poolUse
}

// poolUse is how often the server waited for a database/sql connection.
type poolUse struct {
	waits   int64
	waited  time.Duration
	maxOpen int
}

// measured runs a phase and records where the CPU went meanwhile, and how
// the server's connection pool (shared with loadbench's own few queries,
// none of which run during a phase) kept up.
func measured(postmaster int, d *sqlx.DB, f func() phaseResult) phaseResult {
	before, stats := takeCPU(postmaster), d.Stats()
	r := f()
	r.cpu = since(before, takeCPU(postmaster), 0)
	after := d.Stats()
	r.pool = poolUse{waits: after.WaitCount - stats.WaitCount, waited: after.WaitDuration - stats.WaitDuration, maxOpen: after.MaxOpenConnections}
	return r
}

// perSecond is registrations per second.
func (r phaseResult) perSecond() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.tally.registered) / r.elapsed.Seconds()
}

// throughput is phase 1: clients goroutines each send the next body as soon
// as their previous answer arrives, for d or until the bodies run out. It
// finds the most the system sustains; its latencies are those at saturation.
func throughput(ctx context.Context, c *client, bodies [][]byte, clients int, d time.Duration) phaseResult {
	var next atomic.Int64
	lats := make([][]time.Duration, clients)
	tallies := make([]tally, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			pprof.Do(ctx, pprof.Labels("role", "client"), func(ctx context.Context) {
				for ctx.Err() == nil && time.Now().Before(deadline) {
					i := int(next.Add(1)) - 1
					if i >= len(bodies) {
						return
					}
					t0 := time.Now()
					o := c.submit(ctx, bodies[i])
					lats[w] = append(lats[w], time.Since(t0))
					tallies[w].add(o)
				}
			})
		})
	}
	wg.Wait()
	r := phaseResult{name: "throughput", elapsed: time.Since(start)}
	var all []time.Duration
	for w := range clients {
		all = append(all, lats[w]...)
		r.tally.merge(tallies[w])
	}
	r.lat = distribution(all)
	r.ranOut = int(next.Load()) >= len(bodies) && r.elapsed < d
	return r
}

// fixedRate is phase 2: requests leave on a fixed schedule whatever the
// answers do (open loop), and each latency runs from the scheduled send
// time. A slow answer therefore shows up in every request queued behind it,
// as it would for real banks, instead of silently delaying the next send
// (coordinated omission).
func fixedRate(ctx context.Context, c *client, bodies [][]byte, rate int, d time.Duration) phaseResult {
	n := min(len(bodies), int(float64(rate)*d.Seconds()))
	lats := make([]time.Duration, n)
	outs := make([]outcome, n)
	start := time.Now().Add(10 * time.Millisecond)
	var maxLag time.Duration
	var wg sync.WaitGroup
	sent := 0
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		due := start.Add(time.Duration(int64(i) * int64(time.Second) / int64(rate)))
		time.Sleep(time.Until(due))
		maxLag = max(maxLag, time.Since(due))
		sent++
		wg.Go(func() {
			pprof.Do(ctx, pprof.Labels("role", "client"), func(ctx context.Context) {
				outs[i] = c.submit(ctx, bodies[i])
				lats[i] = time.Since(due)
			})
		})
	}
	wg.Wait()
	r := phaseResult{name: "fixed rate", elapsed: time.Since(start), maxLag: maxLag}
	for i := range sent {
		r.tally.add(outs[i])
	}
	r.lat = distribution(lats[:sent])
	return r
}

func (r phaseResult) print() {
	step("  %s: %d sent, %d registered in %v = %.1f registrations/s; latency p50 %v p95 %v p99 %v max %v",
		r.name, r.tally.sent, r.tally.registered, r.elapsed.Round(time.Millisecond), r.perSecond(),
		ms(r.lat.p50), ms(r.lat.p95), ms(r.lat.p99), ms(r.lat.max))
	printCPU(r.cpu)
	if r.pool.waits > 0 {
		step("  DB pool (max %d connections): requests waited %d times for a connection, %v in all", r.pool.maxOpen, r.pool.waits, r.pool.waited.Round(time.Millisecond))
	}
	if r.ranOut {
		step("  %s ran out of units before the deadline: raise -units for a full-length phase", r.name)
	}
	if r.maxLag > 5*time.Millisecond {
		step("  the sender fell up to %v behind schedule (those waits are included in the latencies)", ms(r.maxLag))
	}
	if len(r.tally.other) > 0 {
		fmt.Fprintf(os.Stderr, "loadbench: ATTENTION %s: answers other than 201 registered (status 0 = transport error): %v; first: %s\n",
			r.name, r.tally.other, r.tally.example)
	}
}

// ms rounds a latency for printing.
func ms(d time.Duration) time.Duration {
	if d >= 10*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}

func printCPU(u cpuUse) {
	step("  CPU, in cores: %v", u)
	if !u.quiet() {
		fmt.Fprintf(os.Stderr, "loadbench: ATTENTION other processes used %.2f cores meanwhile: this phase's numbers understate the machine\n", u.other)
	}
}
