package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	_ "time/tzdata" // Asia/Shanghai even on a host without a zoneinfo database

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"mortgaged/internal/app"
	"mortgaged/internal/benchproc"
	"mortgaged/internal/certkeys"
	serverconfig "mortgaged/internal/config"
	"mortgaged/internal/db"
	"mortgaged/internal/seal"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/server"
)

const dbName = "loadbench"

// database is the private cluster and the migrated benchmark database in it.
type database struct {
	cluster *benchproc.Cluster
	db      *sqlx.DB
}

// startDatabase starts a fresh durable cluster in a new temp dir (see
// benchproc.StartCluster: every commit waits for its WAL to reach the
// disk) and creates and migrates the benchmark's database in it. With
// statements, it also loads pg_stat_statements.
func startDatabase(ctx context.Context, keep, statements bool) (*database, error) {
	cl, err := benchproc.StartCluster(ctx, "loadbench-", keep, statements)
	if err != nil {
		return nil, err
	}
	env := &database{cluster: cl}
	if env.db, err = cl.Database(ctx, dbName); err != nil {
		env.close()
		return nil, err
	}
	return env, nil
}

// close stops the cluster and removes it, or with -keep says how to get it back.
func (e *database) close() error {
	if e.db != nil {
		e.db.Close()
	}
	err := e.cluster.Close()
	if e.cluster.Keep {
		step("kept the cluster in %s; start it with\n  %s\nthen connect to %s", e.cluster.Dir(), e.cluster.StartCommand(), e.cluster.URL(dbName))
	}
	return err
}

// checkpoint flushes dirty pages before a phase, so that each phase starts
// from the same state and none pays for its predecessor's writes (and the
// full-page images after a checkpoint hit every phase alike).
func checkpoint(ctx context.Context, d *sqlx.DB) error {
	_, err := d.ExecContext(ctx, `CHECKPOINT`)
	return err
}

// loadRegister fills units and owners with one INSERT … SELECT each. Unit
// numbers and titles are computed in SQL from the same prefixes unitNumber
// and titleNumber use; the owners' resident IDs come from Go, because their
// check character is mortgage.ResidentIDCheckChar's business.
func loadRegister(ctx context.Context, d *sqlx.DB, n int) error {
	names, ids := make([]string, n), make([]string, n)
	for i := range n {
		o := ownerOf(i + 1)
		names[i], ids[i] = o.Name, o.IDNumber
	}
	err := db.WithTx(ctx, d, nil, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO units
				(unit_number, location, use, area_m2, title_certificate_number, ownership_form)
			SELECT $2 || lpad(i::text, 8, '0'), '龙沙区卜奎大街' || i || '号', 'residential',
				60 + i % 90, $3 || lpad(i::text, 7, '0') || '号', 'sole'
			FROM generate_series(1, $1) AS i`, n, unitPrefix, titlePrefix); err != nil {
			return fmt.Errorf("load units: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO owners (unit_number, seq, name, id_type, id_number)
			SELECT $3 || lpad(o.i::text, 8, '0'), 1, o.name, $4, o.id
			FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS o(name, id, i)`,
			pq.StringArray(names), pq.StringArray(ids), unitPrefix, mortgage.IDResident); err != nil {
			return fmt.Errorf("load owners: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Fresh tables have no statistics; the planner should see the real sizes.
	_, err = d.ExecContext(ctx, `ANALYZE units, owners`)
	return err
}

// secrets are what a node derives from its master key: partners' request
// signing secrets (through the sealer) and the certificate signing keyring.
type secrets struct {
	masterKey string // base64, as MORTGAGED_MASTER_KEY
	sealer    *seal.Sealer
	keys      *certkeys.Keyring
}

// newSecrets makes a throwaway master key, as a fresh installation would,
// and the keyring, which creates the first certificate signing key: every
// registration signs its certificate, and that cost belongs in the
// measurement.
func newSecrets(ctx context.Context, d *sqlx.DB) (secrets, error) {
	master, sealer, err := benchproc.MasterKey()
	if err != nil {
		return secrets{}, err
	}
	keys, err := certkeys.Open(ctx, d, sealer)
	return secrets{masterKey: master, sealer: sealer, keys: keys}, err
}

// Partner limits for the benchmark bank. The defaults (600 a minute, 16 in
// flight) protect a node from one partner; here they would measure the
// limiter, not the node, so they are set out of reach.
const (
	benchRatePerMinute = 60_000_000
	benchMaxConcurrent = 100_000
)

// addPartners adds the bank whose key the clients sign with, and the partner
// pgbench's bundles belong to (so the end check can tell them apart).
func addPartners(ctx context.Context, d *sqlx.DB, sec secrets) (key string, err error) {
	reg := &partners.Registry{DB: d, Sealer: sec.sealer}
	key, err = benchproc.AddPartner(ctx, reg, partners.Partner{ID: benchPartner, Kind: partners.KindBank, Name: bank.Name, CreditCode: bank.IDNumber},
		benchRatePerMinute, benchMaxConcurrent)
	if err != nil {
		return "", err
	}
	return key, reg.Add(ctx, partners.Partner{ID: pgbenchPartner, Kind: partners.KindBank, Name: "pgbench", CreditCode: creditCode("91230200MA1PGBENC")})
}

// newService is the registration service with the centre's default
// configuration (serverconfig.Defaults); d may be nil where only its clock is
// needed.
func newService(d *sqlx.DB) *mortgage.Service {
	return mortgage.NewService(d, serverconfig.Defaults().Registration)
}

// runningServer is the real HTTP server, in this process.
type runningServer struct {
	url  string
	stop func() error
}

// startServer serves the partner API on a loopback port, wired by
// internal/app as `mortgaged serve` wires it, with the default
// configuration and the run's master key. Request logs are formatted as in
// production (one JSON line per request costs CPU we want measured) but
// discarded rather than scrolled past.
func startServer(d *sqlx.DB, sec secrets) (*runningServer, error) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	c := serverconfig.Defaults()
	c.MasterKey = sec.masterKey
	a, err := app.New(context.Background(), c, d, log)
	if err != nil {
		return nil, err
	}
	hs := server.HTTPServer(labelled("server", a.Server), log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// Not the run's context: the server must outlive a Ctrl-C until the
	// requests in flight have finished and been counted.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- server.Serve(ctx, hs, ln) }()
	stop := func() error {
		cancel()
		return <-errc
	}
	return &runningServer{url: "http://" + ln.Addr().String(), stop: stop}, nil
}

// labelled tags the handler's goroutine so that a CPU profile of the whole
// process can be narrowed to the server with -tagfocus=role=server.
func labelled(role string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.Do(r.Context(), pprof.Labels("role", role), func(ctx context.Context) {
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	})
}

// profiled runs f, under the CPU profiler when file is set.
func profiled(file string, f func() phaseResult) (phaseResult, error) {
	if file == "" {
		return f(), nil
	}
	out, err := os.Create(file)
	if err != nil {
		return phaseResult{}, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return phaseResult{}, err
	}
	r := f()
	pprof.StopCPUProfile()
	step("CPU profile of phase 1 written to %s (go tool pprof -tagfocus=role=server %s)", file, file)
	return r, out.Close()
}
