// Command loadbench measures how many mortgages the real partner API
// registers per second on this machine, at what latency, and how that
// compares with what PostgreSQL alone achieves running the same transaction
// (the pgbench "floor").
//
//	go run ./cmd/loadbench [-units 20000] [-c 32] [-d 20s] [-rate 200] [-markdown] [-cpuprofile FILE] [-keep]
//
// Run it from the module root: it writes the pgbench script to
// bench/registration.sql. One run:
//
//  1. starts a private durable PostgreSQL (fsync and synchronous_commit on)
//     in a temp dir, creates a database and migrates it;
//  2. loads a register of -units units, each with one sole owner;
//  3. makes a master key and certificate signing key, adds a partner (limits
//     raised out of reach), issues it a key, and starts the real HTTP server
//     (internal/app, wired as `mortgaged serve` is) in this process on 127.0.0.1:0;
//     clients sign every request as partners/client does;
//  4. phase 1, throughput: -c closed-loop clients POST clean first
//     registrations for -d (or until their share of units runs out);
//  5. phase 2, fixed rate: -rate requests per second, open loop, latency
//     measured from each request's scheduled send time;
//  6. phase 3, pgbench floor: pgbench runs bench/registration.sql, the same
//     SQL as the registration transaction, over units phases 1–2 left alone;
//  7. checks that the register holds exactly one mortgage per 201
//     "registered" answer, and prints a summary (and with -markdown a block
//     for docs/BENCHMARKS.md).
//
// Client, server and PostgreSQL share the machine: that is the point (it is
// how a small centre runs) and the main caveat (see docs/BENCHMARKS.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/mortgage"
)

// config is the command line.
type config struct {
	units      int
	clients    int
	duration   time.Duration
	rate       int
	keep       bool
	markdown   bool
	cpuProfile string
	script     string
	pgbench    string
	mode       string // pgbench -M
	statements bool
}

func main() {
	var c config
	flag.IntVar(&c.units, "units", 20000, "units in the synthetic register; phase 2 takes rate×d of them, phases 1 and 3 share the rest")
	flag.IntVar(&c.clients, "c", 32, "concurrent clients in phase 1, and pgbench clients in phase 3")
	flag.DurationVar(&c.duration, "d", 20*time.Second, "duration of each phase")
	flag.IntVar(&c.rate, "rate", 200, "requests per second in phase 2")
	flag.BoolVar(&c.keep, "keep", false, "keep the PostgreSQL cluster directory (server stopped) and print how to start it")
	flag.BoolVar(&c.markdown, "markdown", false, "also print a markdown block for docs/BENCHMARKS.md")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of phase 1 to `file` (server goroutines are labelled role=server, clients role=client)")
	flag.StringVar(&c.script, "script", "bench/registration.sql", "where to write the pgbench script")
	flag.StringVar(&c.pgbench, "pgbench", "/usr/bin/pgbench", "the pgbench binary")
	flag.StringVar(&c.mode, "pgbench-mode", "prepared", "pgbench -M: prepared (parse and plan once per connection), or extended (unnamed statements, parsed and planned every time, as lib/pq does)")
	flag.BoolVar(&c.statements, "statements", false, "load pg_stat_statements and print PostgreSQL's time per statement in phases 1 and 3")
	flag.Parse()
	if err := c.check(); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, c)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func (c config) check() error {
	switch {
	case c.clients < 1:
		return errors.New("-c must be at least 1")
	case c.duration < time.Second:
		return errors.New("-d must be at least 1s (pgbench counts whole seconds)")
	case c.rate < 1:
		return errors.New("-rate must be at least 1")
	case c.mode != "prepared" && c.mode != "extended":
		return errors.New("-pgbench-mode must be prepared or extended (simple mode would paste the string variables unquoted)")
	case c.units > maxUnits:
		return fmt.Errorf("-units must be at most %d (title certificate serials have 7 digits)", maxUnits)
	}
	return nil
}

// run does one benchmark. Everything it starts it also stops, on error and
// on Ctrl-C too; so it returns rather than exits.
func run(ctx context.Context, c config) (err error) {
	p, err := planUnits(c)
	if err != nil {
		return err
	}
	step("starting a durable PostgreSQL cluster (fsync on) in a temp dir")
	env, err := startDatabase(ctx, c.keep, c.statements)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := env.close(); err == nil {
			err = cerr
		}
	}()
	facts := gatherFacts(ctx, env)
	step("load average %s on %d CPUs", facts.loadAvg, facts.nproc)

	b, err := prepare(ctx, c, env, p)
	if err != nil {
		return err
	}
	defer func() {
		if serr := b.srv.stop(); err == nil {
			err = serr
		}
	}()
	res, err := b.phases(ctx)
	if err != nil {
		return err
	}
	checkErr := verify(ctx, env.db, &res)
	report(os.Stdout, c, facts, res)
	if c.markdown {
		markdown(os.Stdout, c, facts, res)
	}
	return checkErr
}

// bench is a prepared benchmark: register loaded, server up, bodies built.
type bench struct {
	c          config
	env        *database
	plan       plan
	postmaster int // for CPU accounting
	srv        *runningServer
	cl         *client
	today      mortgage.Date
	sample     []byte
	p1, p2     [][]byte // request bodies of phases 1 and 2
}

// prepare loads the register, makes the node's keys and the partners,
// starts the server and builds every request body before any clock runs.
func prepare(ctx context.Context, c config, env *database, p plan) (*bench, error) {
	b := &bench{c: c, env: env, plan: p, postmaster: postmasterPID(env.cluster.DataDir()), today: newService(nil).Today()}
	step("loading a register of %d units", c.units)
	t0 := time.Now()
	if err := loadRegister(ctx, env.db, c.units); err != nil {
		return nil, err
	}
	step("register loaded in %v", time.Since(t0).Round(time.Millisecond))
	sec, err := newSecrets(ctx, env.db)
	if err != nil {
		return nil, err
	}
	key, err := addPartners(ctx, env.db, sec)
	if err != nil {
		return nil, err
	}
	step("building %d request bodies", p.p1.len()+p.p2.len()+1)
	sample, err := buildBodies(span{p.sample, p.sample}, b.today)
	if err == nil {
		b.p1, err = buildBodies(p.p1, b.today)
	}
	if err == nil {
		b.p2, err = buildBodies(p.p2, b.today)
	}
	if err != nil {
		return nil, err
	}
	b.sample = sample[0]
	if b.srv, err = startServer(env.db, sec); err != nil {
		return nil, err
	}
	if b.cl, err = newClient(b.srv.url, key, c.clients); err != nil {
		b.srv.stop()
		return nil, err
	}
	return b, nil
}

// phases checks one sample registration, then runs the three phases.
func (b *bench) phases(ctx context.Context) (res results, err error) {
	if res.sample, err = checkSample(ctx, b.cl, b.sample); err != nil {
		return res, err
	}
	if res.p1, err = b.throughput(ctx); err != nil {
		return res, err
	}
	if res.p2, err = b.fixedRate(ctx); err != nil {
		return res, err
	}
	res.p3, err = b.floor(ctx)
	return res, err
}

func (b *bench) throughput(ctx context.Context) (phaseResult, error) {
	c, db := b.c, b.env.db
	if err := beforePhase(ctx, c, db); err != nil {
		return phaseResult{}, err
	}
	step("phase 1: throughput, %d clients for %v", c.clients, c.duration)
	r, err := profiled(c.cpuProfile, func() phaseResult {
		return measured(b.postmaster, db, func() phaseResult { return throughput(ctx, b.cl, b.p1, c.clients, c.duration) })
	})
	if err != nil {
		return r, err
	}
	r.print()
	return r, afterPhase(ctx, c, db, "phase 1", r.tally.registered)
}

func (b *bench) fixedRate(ctx context.Context) (phaseResult, error) {
	c, db := b.c, b.env.db
	if err := checkpoint(ctx, db); err != nil {
		return phaseResult{}, err
	}
	step("phase 2: fixed rate, %d req/s for %v", c.rate, c.duration)
	r := measured(b.postmaster, db, func() phaseResult { return fixedRate(ctx, b.cl, b.p2, c.rate, c.duration) })
	r.print()
	return r, nil
}

func (b *bench) floor(ctx context.Context) (pgbenchResult, error) {
	c, db, s := b.c, b.env.db, b.plan.p3
	if err := beforePhase(ctx, c, db); err != nil {
		return pgbenchResult{}, err
	}
	step("phase 3: pgbench floor, %d clients for %v over units %d–%d", c.clients, c.duration, s.lo, s.hi)
	r, err := pgbenchFloor(ctx, c, b.env, b.postmaster, s, b.today)
	if err != nil {
		return r, err
	}
	r.print()
	return r, afterPhase(ctx, c, db, "phase 3 (pgbench -M "+c.mode+")", r.processed)
}

// beforePhase checkpoints and, with -statements, forgets earlier statements.
func beforePhase(ctx context.Context, c config, d *sqlx.DB) error {
	if err := checkpoint(ctx, d); err != nil {
		return err
	}
	if c.statements {
		return resetStatements(ctx, d)
	}
	return nil
}

// afterPhase prints, with -statements, PostgreSQL's time per statement.
func afterPhase(ctx context.Context, c config, d *sqlx.DB, title string, transactions int) error {
	if !c.statements {
		return nil
	}
	return printStatements(ctx, os.Stdout, d, title, transactions)
}

// step prints progress to stderr, keeping stdout for the results.
func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadbench: "+format+"\n", args...)
}
