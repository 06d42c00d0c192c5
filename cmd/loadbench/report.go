package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"
)

// Goals the centre set for one node.
const (
	goalPerSecond = 500                   // registrations/s in phase 1
	goalP99       = 50 * time.Millisecond // p99 at the fixed rate
	goalFloor     = 0.5                   // share of the pgbench floor, long term
)

// results is everything one run measured.
type results struct {
	sample outcome
	p1, p2 phaseResult
	p3     pgbenchResult

	// The end check.
	registered201 int // 201 registered answers, sample included
	ourMortgages  int // mortgages behind our partner's bundles
	allMortgages  int
	pgbBundles    int
}

// quiet reports whether the machine was ours alone in every phase.
func (r results) quiet() bool { return r.p1.cpu.quiet() && r.p2.cpu.quiet() && r.p3.cpu.quiet() }

// costPer is CPU milliseconds per registration: a phase's cores divided by
// its registrations per second. Unlike throughput it barely moves when
// other processes take CPU, so runs on a busy machine still compare.
func costPer(cores, perSecond float64) float64 {
	if perSecond <= 0 {
		return 0
	}
	return 1000 * cores / perSecond
}

// cost is one phase's CPU per registration, and the rate the machine's
// CPUs would allow at that cost if nothing else ran.
type cost struct {
	goMs, pgMs, clientMs float64 // clientMs: pgbench itself
	capacity             float64 // registrations/s
}

func costOf(u cpuUse, perSecond float64, nproc int) cost {
	c := cost{goMs: costPer(u.ours, perSecond), pgMs: costPer(u.postgres, perSecond), clientMs: costPer(u.pgbench, perSecond)}
	if total := c.goMs + c.pgMs + c.clientMs; total > 0 {
		c.capacity = 1000 * float64(nproc) / total
	}
	return c
}

func (r results) ratio() float64 {
	if r.p3.tps == 0 {
		return 0
	}
	return r.p1.perSecond() / r.p3.tps
}

// verify checks that the register holds one mortgage per 201 registered
// answer, no more (a request that timed out but committed) and no fewer (an
// answer for a registration that was not durable), and that pgbench's
// commits are all there too.
func verify(ctx context.Context, d *sqlx.DB, r *results) error {
	r.registered201 = 1 + r.p1.tally.registered + r.p2.tally.registered // 1: the sample
	err := d.GetContext(ctx, &r.ourMortgages, `SELECT count(*) FROM mortgages m
		JOIN bundles b ON b.mortgage_id = m.id WHERE b.partner_id = $1`, benchPartner)
	if err == nil {
		err = d.GetContext(ctx, &r.allMortgages, `SELECT count(*) FROM mortgages`)
	}
	if err == nil {
		err = d.GetContext(ctx, &r.pgbBundles, `SELECT count(*) FROM bundles WHERE partner_id = $1`, pgbenchPartner)
	}
	if err != nil {
		return fmt.Errorf("end check: %w", err)
	}
	var problems []string
	if r.ourMortgages != r.registered201 {
		problems = append(problems, fmt.Sprintf("%d mortgages registered through the API, but %d answers were 201 registered", r.ourMortgages, r.registered201))
	}
	if r.allMortgages != r.ourMortgages+r.pgbBundles || r.pgbBundles != r.p3.processed {
		problems = append(problems, fmt.Sprintf("pgbench reported %d transactions; the database holds %d of its bundles and %d mortgages besides ours",
			r.p3.processed, r.pgbBundles, r.allMortgages-r.ourMortgages))
	}
	if len(problems) == 0 {
		step("end check: %d mortgages for %d answers 201 registered, and %d pgbench transactions: consistent", r.ourMortgages, r.registered201, r.pgbBundles)
		return nil
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "loadbench: !!! END CHECK FAILED: "+p)
	}
	return errors.New("end check failed: the register does not match the answers")
}

// facts describe the machine, for anyone comparing runs.
type facts struct {
	cpu        string
	nproc      int
	gomaxprocs int
	memory     string
	kernel     string
	goVersion  string
	pgVersion  string
	pgSettings string
	fs         string        // filesystem of the cluster directory
	fdatasync  time.Duration // median 8 KB write + fdatasync there
	loadAvg    string        // at the start
}

func gatherFacts(ctx context.Context, env *database) facts {
	f := facts{
		cpu: cpuModel(), nproc: runtime.NumCPU(), gomaxprocs: runtime.GOMAXPROCS(0),
		memory: memTotal(), kernel: firstLine("/proc/sys/kernel/osrelease"), goVersion: runtime.Version(),
		fs: filesystemOf(env.cluster.Dir()), fdatasync: fdatasyncLatency(env.cluster.Dir()), loadAvg: loadAverage(),
	}
	_ = env.db.GetContext(ctx, &f.pgVersion, `SHOW server_version`)
	_ = env.db.GetContext(ctx, &f.pgSettings, `SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name)
		FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method',
			'shared_buffers', 'max_connections', 'max_wal_size')`)
	return f
}

func firstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

// procField returns the value of the first "key : value" line in a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func cpuModel() string { return procField("/proc/cpuinfo", "model name") }

func memTotal() string {
	var kb int
	if _, err := fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%d kB", &kb); err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
}

// filesystemOf finds the mount holding dir in /proc/mounts (longest prefix).
func filesystemOf(dir string) string {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "?"
	}
	best, fs := "", "?"
	for line := range strings.Lines(string(b)) {
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		mnt := fields[1]
		if (dir == mnt || strings.HasPrefix(dir, strings.TrimSuffix(mnt, "/")+"/")) && len(mnt) > len(best) {
			best, fs = mnt, fields[2]+" on "+fields[0]
		}
	}
	return fs
}

// fdatasyncLatency times what every commit waits for at least once: an
// 8 KB write and fdatasync in the cluster's directory (PostgreSQL's default
// wal_sync_method on Linux is fdatasync).
func fdatasyncLatency(dir string) time.Duration {
	f, err := os.CreateTemp(dir, "fdatasync-probe-")
	if err != nil {
		return 0
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 8192)
	var ts []time.Duration
	for range 200 {
		t0 := time.Now()
		if _, err := f.WriteAt(page, 0); err != nil {
			return 0
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return 0
		}
		ts = append(ts, time.Since(t0))
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// report prints the summary table.
func report(w io.Writer, c config, f facts, r results) {
	fmt.Fprintf(w, "\nMachine: %s, %d CPUs (GOMAXPROCS %d), %s RAM, Linux %s\n", f.cpu, f.nproc, f.gomaxprocs, f.memory, f.kernel)
	fmt.Fprintf(w, "Software: %s, PostgreSQL %s (%s)\n", f.goVersion, f.pgVersion, f.pgSettings)
	fmt.Fprintf(w, "Disk: cluster on %s; 8 KB write+fdatasync median %v\n", f.fs, f.fdatasync.Round(time.Microsecond))
	fmt.Fprintf(w, "Load average at start: %s\n\n", f.loadAvg)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tregistered\tper second\tp50\tp95\tp99\tmax\t")
	for _, p := range []phaseResult{r.p1, r.p2} {
		label := fmt.Sprintf("1 throughput, %d clients", c.clients)
		if p.name == "fixed rate" {
			label = fmt.Sprintf("2 fixed rate, %d req/s", c.rate)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%v\t%v\t%v\t%v\t\n", label, p.tally.registered, p.perSecond(),
			ms(p.lat.p50), ms(p.lat.p95), ms(p.lat.p99), ms(p.lat.max))
	}
	fmt.Fprintf(tw, "3 pgbench floor, %d clients\t%d\t%.1f\t\t\t\t(avg %.2fms)\t\n", c.clients, r.p3.processed, r.p3.tps, r.p3.latency)
	tw.Flush()

	fmt.Fprintf(w, "\nCPU use in cores (of %d):\n", f.nproc)
	fmt.Fprintf(w, "  phase 1: %v\n  phase 2: %v\n  phase 3: %v\n", r.p1.cpu, r.p2.cpu, r.p3.cpu)
	if !r.quiet() {
		fmt.Fprintln(w, "  !!! other processes used the CPU during the run: these numbers understate this machine; rerun when it is quiet")
	}
	c1, c3 := costOf(r.p1.cpu, r.p1.perSecond(), f.nproc), costOf(r.p3.cpu, r.p3.tps, f.nproc)
	fmt.Fprintf(w, "\nCPU per registration: ours %.2f ms Go (clients + server) + %.2f ms PostgreSQL; pgbench %.2f ms PostgreSQL + %.2f ms pgbench\n",
		c1.goMs, c1.pgMs, c3.pgMs, c3.clientMs)
	fmt.Fprintf(w, "capacity of %d idle CPUs at that cost: ours %.0f/s, pgbench %.0f/s (%.1f %%)\n", f.nproc, c1.capacity, c3.capacity, 100*c1.capacity/max(c3.capacity, 1))
	fmt.Fprintf(w, "\nours/pgbench: %.1f %%\n", 100*r.ratio())
	fmt.Fprintf(w, "goal ≥ %d registrations/s: %s (%.1f)\n", goalPerSecond, verdict(r.p1.perSecond() >= goalPerSecond), r.p1.perSecond())
	fmt.Fprintf(w, "goal p99 ≤ %v at %d req/s: %s (%v)\n", goalP99, c.rate, verdict(r.p2.lat.p99 <= goalP99 && r.p2.lat.n > 0), ms(r.p2.lat.p99))
	fmt.Fprintf(w, "goal ≥ %.0f %% of the pgbench floor: %s (%.1f %%)\n", 100*goalFloor, verdict(r.ratio() >= goalFloor), 100*r.ratio())
	fmt.Fprintf(w, "end check: %d mortgages for %d answers 201 registered\n", r.ourMortgages, r.registered201)
}

// markdown prints a block to paste into docs/BENCHMARKS.md.
func markdown(w io.Writer, c config, f facts, r results) {
	fmt.Fprintf(w, "\n<!-- loadbench %s -->\n", time.Now().Format(time.DateOnly))
	fmt.Fprintf(w, "Command: `go run ./cmd/loadbench %s`\n\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "| Machine | |\n|---|---|\n")
	fmt.Fprintf(w, "| CPU | %s, %d CPUs |\n| Memory | %s |\n| Kernel | Linux %s |\n", f.cpu, f.nproc, f.memory, f.kernel)
	fmt.Fprintf(w, "| Go | %s (GOMAXPROCS %d) |\n| PostgreSQL | %s (`%s`) |\n", f.goVersion, f.gomaxprocs, f.pgVersion, f.pgSettings)
	fmt.Fprintf(w, "| Disk | cluster on %s; 8 KB write + fdatasync median %v |\n\n", f.fs, f.fdatasync.Round(time.Microsecond))

	fmt.Fprintf(w, "| Phase | Registered | Per second | p50 | p95 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(w, "| 1 throughput, %d clients, %v | %d | %.1f | %v | %v | %v | %v |\n", c.clients, r.p1.elapsed.Round(100*time.Millisecond),
		r.p1.tally.registered, r.p1.perSecond(), ms(r.p1.lat.p50), ms(r.p1.lat.p95), ms(r.p1.lat.p99), ms(r.p1.lat.max))
	fmt.Fprintf(w, "| 2 fixed rate, %d req/s, %v | %d | %.1f | %v | %v | %v | %v |\n", c.rate, r.p2.elapsed.Round(100*time.Millisecond),
		r.p2.tally.registered, r.p2.perSecond(), ms(r.p2.lat.p50), ms(r.p2.lat.p95), ms(r.p2.lat.p99), ms(r.p2.lat.max))
	fmt.Fprintf(w, "| 3 pgbench floor, %d clients, %v | %d | %.1f tps | | | | avg %.2f ms |\n\n", c.clients, c.duration, r.p3.processed, r.p3.tps, r.p3.latency)

	fmt.Fprintf(w, "| CPU use, cores of %d | Go process (clients + server) | PostgreSQL | pgbench | other processes | irq | steal | idle |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", f.nproc)
	for i, u := range []cpuUse{r.p1.cpu, r.p2.cpu, r.p3.cpu} {
		fmt.Fprintf(w, "| phase %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", i+1, u.ours, u.postgres, u.pgbench, u.other, u.irq, u.steal, u.idle)
	}
	fmt.Fprintln(w)
	c1, c3 := costOf(r.p1.cpu, r.p1.perSecond(), f.nproc), costOf(r.p3.cpu, r.p3.tps, f.nproc)
	fmt.Fprintf(w, "| CPU per registration | Go (clients + server) | PostgreSQL | pgbench | capacity of %d idle CPUs |\n|---|---:|---:|---:|---:|\n", f.nproc)
	fmt.Fprintf(w, "| ours (phase 1) | %.2f ms | %.2f ms | | %.0f/s |\n", c1.goMs, c1.pgMs, c1.capacity)
	fmt.Fprintf(w, "| pgbench (phase 3) | | %.2f ms | %.2f ms | %.0f/s |\n\n", c3.pgMs, c3.clientMs, c3.capacity)
	fmt.Fprintf(w, "| Goal | Measured | |\n|---|---:|---|\n")
	fmt.Fprintf(w, "| ≥ %d registrations/s | %.1f | %s |\n", goalPerSecond, r.p1.perSecond(), verdict(r.p1.perSecond() >= goalPerSecond))
	fmt.Fprintf(w, "| p99 ≤ %v at %d req/s | %v | %s |\n", goalP99, c.rate, ms(r.p2.lat.p99), verdict(r.p2.lat.p99 <= goalP99 && r.p2.lat.n > 0))
	fmt.Fprintf(w, "| ≥ %.0f %% of pgbench floor | %.1f %% | %s |\n", 100*goalFloor, 100*r.ratio(), verdict(r.ratio() >= goalFloor))
}
