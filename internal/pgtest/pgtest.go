// Package pgtest gives each test its own PostgreSQL database.
//
// A package's TestMain calls Main, which starts one throwaway cluster
// (internal/pgcluster, fsync off) for the test process and builds a template
// database with the caller's prepare function (typically Migrate: the
// embedded migrations). Each test then calls New or Open and gets a fresh
// database cloned from that template, so tests may run in parallel
// (t.Parallel) and never see each other's writes.
//
//	func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }
//
// A failed test's database is kept; the cluster directory is then kept too
// (server stopped), and Main prints how to start it again and the URLs.
// With PGTEST_KEEP=1 every test database is kept and the server is left
// running.
package pgtest

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver

	"mortgaged/internal/db"
	"mortgaged/internal/pgcluster"
)

// templateName is the database prepare fills and New clones.
const templateName = "pgtest_template"

var (
	cluster *pgcluster.Cluster
	admin   *sql.DB // connected to the "postgres" database
	keepAll bool    // PGTEST_KEEP=1

	// createMu serialises CREATE DATABASE ... TEMPLATE within the process.
	createMu sync.Mutex
	seq      atomic.Int64

	keptMu sync.Mutex
	kept   []string // "TestName: URL"
)

// Main starts the test process's cluster, prepares the template database by
// calling prepare with its URL, runs the tests and exits. prepare must close
// its connections when done; any it leaves open are terminated, and the
// template refuses connections from then on.
//
// If the PostgreSQL binaries are missing, Main prints how to install them
// and exits with status 1.
func Main(m *testing.M, prepare func(ctx context.Context, url string) error) {
	os.Exit(run(m, prepare))
}

func run(m *testing.M, prepare func(ctx context.Context, url string) error) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	keepAll = os.Getenv("PGTEST_KEEP") == "1"

	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	// The cluster directory belongs to the postgres user when we are root;
	// its parent (the temp dir) must let that user in, which Start checks.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t0 := time.Now()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Fsync: false})
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	started := time.Since(t0)
	cluster = c

	// pg_ctl detaches the server, so it would outlive a test binary that
	// panics (a test timeout panics) or is killed. A watchdog process
	// stops it and removes the directory unless we tell it we are done.
	var dog *watchdog
	if !keepAll {
		if dog, err = startWatchdog(c); err != nil {
			c.Stop()
			os.RemoveAll(dir)
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
	}
	var downOnce sync.Once
	shutdown := func() error {
		var err error
		downOnce.Do(func() {
			if admin != nil {
				admin.Close()
			}
			err = c.Stop()
			if dog != nil && err == nil {
				// Otherwise it stops the server (and removes the
				// directory) when this process exits.
				dog.dismiss()
			}
		})
		return err
	}
	// Stop the server if we are interrupted.
	sigs := make(chan os.Signal, 1)
	if !keepAll {
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig, ok := <-sigs
			if !ok {
				return
			}
			fmt.Fprintf(os.Stderr, "pgtest: %v: stopping the test cluster and removing %s\n", sig, dir)
			shutdown()
			os.RemoveAll(dir)
			os.Exit(1)
		}()
	}

	t1 := time.Now()
	if err := makeTemplate(ctx, c, prepare); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		shutdown()
		os.RemoveAll(dir)
		return 1
	}
	cancel()
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "pgtest: cluster started in %v, template prepared in %v (%s)\n",
			started.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond), dir)
	}

	code := m.Run()

	signal.Stop(sigs)
	close(sigs)

	keptMu.Lock()
	keptDBs := append([]string(nil), kept...)
	keptMu.Unlock()

	switch {
	case keepAll:
		admin.Close() // no watchdog with PGTEST_KEEP=1
		var b strings.Builder
		fmt.Fprintf(&b, "pgtest: PGTEST_KEEP=1: server left running, cluster in %s\n", dir)
		writeDBs(&b, keptDBs)
		fmt.Fprintf(&b, "pgtest: stop it with:\n    %s\npgtest: then remove it with: rm -rf %s\n", c.StopCommand(), dir)
		fmt.Fprint(os.Stderr, b.String())
	case len(keptDBs) > 0:
		if err := shutdown(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			code = 1
		}
		var b strings.Builder
		fmt.Fprintf(&b, "pgtest: %d test database(s) kept in %s (server stopped)\n", len(keptDBs), dir)
		fmt.Fprintf(&b, "pgtest: start the server again with:\n    %s\n", c.StartCommand())
		writeDBs(&b, keptDBs)
		fmt.Fprintf(&b, "pgtest: stop it with:\n    %s\npgtest: then remove it with: rm -rf %s\n", c.StopCommand(), dir)
		fmt.Fprint(os.Stderr, b.String())
	default:
		if err := shutdown(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
			return code // the watchdog cleans up when we exit
		}
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

func writeDBs(b *strings.Builder, dbs []string) {
	if len(dbs) == 0 {
		return
	}
	b.WriteString("pgtest: databases:\n")
	for _, d := range dbs {
		fmt.Fprintf(b, "    %s\n", d)
	}
}

// Migrate is the prepare function of almost every package: it applies the
// embedded migrations (internal/db) to the template database. A package that
// needs more in its template calls it first from its own prepare function.
func Migrate(ctx context.Context, url string) error {
	d, err := db.Open(ctx, url)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = db.Migrate(ctx, d, nil)
	return err
}

// makeTemplate creates the template database, lets prepare fill it, then
// closes it to connections so CREATE DATABASE ... TEMPLATE cannot fail with
// "source database is being accessed by other users".
func makeTemplate(ctx context.Context, c *pgcluster.Cluster, prepare func(ctx context.Context, url string) error) error {
	var err error
	admin, err = sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	admin.SetMaxOpenConns(4)
	admin.SetMaxIdleConns(4)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+templateName); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	if prepare != nil {
		if err := prepare(ctx, c.URL(templateName)); err != nil {
			return fmt.Errorf("prepare template database: %w", err)
		}
	}
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+templateName+" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"); err != nil {
		return fmt.Errorf("seal template database: %w", err)
	}
	if _, err := admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", templateName); err != nil {
		return fmt.Errorf("disconnect template database: %w", err)
	}
	// pg_terminate_backend only signals; wait for the backends to go.
	for {
		var n int
		if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", templateName).Scan(&n); err != nil {
			return fmt.Errorf("disconnect template database: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("disconnect template database: %d connection(s) remain: %w", n, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// New creates a fresh database for this test, cloned from the template, and
// returns its URL. When the test passes the database is dropped; when it
// fails the database is kept and its URL logged.
func New(t testing.TB) (url string) {
	t.Helper()
	if cluster == nil {
		t.Fatal("pgtest: no cluster: call pgtest.Main from TestMain")
	}
	name := fmt.Sprintf("t_%d", seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	createMu.Lock()
	_, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateName)
	createMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	url = cluster.URL(name)
	t.Cleanup(func() {
		if t.Failed() || keepAll {
			keptMu.Lock()
			kept = append(kept, t.Name()+": "+url)
			keptMu.Unlock()
			if t.Failed() {
				t.Logf("kept database for failed test: %s", url)
			} else {
				t.Logf("kept database (PGTEST_KEEP=1): %s", url)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE: connections the test left open must not keep it alive.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return url
}

// Open is New plus sqlx.Open("postgres", url); the pool is closed when the
// test ends (before its database is dropped).
func Open(t testing.TB) *sqlx.DB {
	t.Helper()
	url := New(t)
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("pgtest: connect %s: %v", url, err)
	}
	return db
}

// Cluster returns the test process's cluster, or nil outside Main.
func Cluster() *pgcluster.Cluster { return cluster }

// watchdog is a shell process that waits for a line on its stdin. If it reads
// "done" it exits; if it reads end-of-file first, which happens however the
// test process ends, it stops the server and removes the cluster directory.
type watchdog struct {
	stdin io.WriteCloser
	cmd   *exec.Cmd
}

const watchdogScript = `read -r line
[ "$line" = done ] && exit 0
"$1" stop -D "$2" -m immediate -w >/dev/null 2>&1
rm -rf "$3"
[ -n "$4" ] && rm -rf "$4"
exit 0`

func startWatchdog(c *pgcluster.Cluster) (*watchdog, error) {
	extraSock := ""
	if !strings.HasPrefix(c.SocketDir(), c.Dir()+string(filepath.Separator)) {
		extraSock = c.SocketDir()
	}
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "pgtest-watchdog",
		filepath.Join(c.BinDir(), "pg_ctl"), c.DataDir(), c.Dir(), extraSock)
	cmd.Dir = c.Dir()
	// Own session: a Ctrl-C aimed at the tests must not kill the watchdog.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if os.Geteuid() == 0 {
		// pg_ctl refuses to run as root: run as the owner of the data
		// directory (the server user), who also owns the cluster directory.
		st, err := os.Stat(c.DataDir())
		if err != nil {
			return nil, err
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
			cmd.SysProcAttr.Credential = &syscall.Credential{Uid: sys.Uid, Gid: sys.Gid}
		}
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	go cmd.Wait() // reap it whenever it exits
	return &watchdog{stdin: stdin, cmd: cmd}, nil
}

// dismiss tells the watchdog to exit without doing anything.
func (w *watchdog) dismiss() {
	io.WriteString(w.stdin, "done\n")
	w.stdin.Close()
}
