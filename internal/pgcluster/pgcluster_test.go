package pgcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"mortgaged/internal/testwait"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// clusterDir makes a fresh directory for a cluster. It does not use
// t.TempDir: that directory's parent is mode 0700 and owned by root, so the
// postgres user could not reach it when the tests run as root.
func clusterDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) }) // registered first, so it runs after Stop
	return d
}

func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatalf("Start(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	return db
}

func queryString(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow(q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if !s.Valid {
		return "<NULL>"
	}
	return s.String
}

func TestFindBinariesMissing(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	// A directory with only some of the programs does not count.
	partial := t.TempDir()
	writeExecutable(t, filepath.Join(partial, "initdb"))

	bin, err := findBinaries(strings.Join([]string{"", empty, partial}, string(os.PathListSeparator)), filepath.Join(empty, "*", "bin"))
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("findBinaries = %q, %v; want ErrNoBinaries", bin, err)
	}
	msg := err.Error()
	for _, want := range []string{"initdb", "apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") || strings.Count(msg, ". ") > 0 {
		t.Errorf("message should be one sentence: %q", msg)
	}
}

func writeExecutable(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindBinariesOrder(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "10"} {
		for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
			writeExecutable(t, filepath.Join(root, "versions", v, "bin", name))
		}
	}
	glob := filepath.Join(root, "versions", "*", "bin")

	got, err := findBinaries("", glob)
	if want := filepath.Join(root, "versions", "15", "bin"); err != nil || got != want {
		t.Errorf("highest version: got %q, %v; want %q", got, err, want)
	}

	// PATH comes first, and a symlinked pg_ctl resolves to the directory
	// that really holds the programs.
	onPath := filepath.Join(root, "path")
	if err := os.MkdirAll(onPath, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "pg_ctl"} {
		if err := os.Symlink(filepath.Join(root, "versions", "10", "bin", name), filepath.Join(onPath, name)); err != nil {
			t.Fatal(err)
		}
	}
	got, err = findBinaries(onPath, glob)
	if want := filepath.Join(root, "versions", "10", "bin"); err != nil || got != want {
		t.Errorf("PATH first: got %q, %v; want %q", got, err, want)
	}
}

func TestFindBinariesInstalled(t *testing.T) {
	t.Parallel()
	bin, err := FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL binaries in %s", bin)
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	t0 := time.Now()
	c := start(t, dir)
	t.Logf("first Start (initdb + start) took %v", time.Since(t0).Round(time.Millisecond))

	if want := filepath.Join(dir, "run"); c.SocketDir() != want {
		t.Errorf("SocketDir = %q, want %q", c.SocketDir(), want)
	}
	url := c.URL("postgres")
	if !strings.HasPrefix(url, "postgres://postgres@/postgres?host="+filepath.Join(dir, "run")+"&") {
		t.Errorf("URL = %q", url)
	}
	db := open(t, url)
	// Connected over the unix socket: no server address, and no TCP listener.
	if got := queryString(t, db, "SELECT inet_server_addr()::text"); got != "<NULL>" {
		t.Errorf("inet_server_addr = %s, want NULL (unix socket)", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", ".s.PGSQL.5432")); err != nil {
		t.Errorf("socket file: %v", err)
	}
	for setting, want := range map[string]string{
		"listen_addresses":   "",
		"fsync":              "off",
		"synchronous_commit": "off",
		"full_page_writes":   "off",
		"max_connections":    "200",
		"shared_buffers":     "128MB",
		"server_encoding":    "UTF8",
		"lc_collate":         "C",
	} {
		if got := queryString(t, db, "SHOW "+setting); got != want {
			t.Errorf("SHOW %s = %q, want %q", setting, got, want)
		}
	}
	if _, err := db.Exec(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", ".s.PGSQL.5432")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Stop: err = %v, want not-exist", err)
	}

	t0 = time.Now()
	c2 := start(t, dir)
	t.Logf("second Start (existing cluster) took %v", time.Since(t0).Round(time.Millisecond))
	db2 := open(t, c2.URL("postgres"))
	if got := queryString(t, db2, "SELECT v FROM kept"); got != "still here" {
		t.Errorf("after restart: got %q, want %q", got, "still here")
	}
}

func TestStartTwiceReusesServer(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c1 := start(t, dir)
	db1 := open(t, c1.URL("postgres"))
	started1 := queryString(t, db1, "SELECT pg_postmaster_start_time()::text")
	pid1 := postmasterPID(t, c1)

	// The second Start asks for one more setting: it is written and
	// reloaded into the running server rather than restarting it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c2, err := Start(ctx, Options{Dir: dir, ExtraConf: map[string]string{"work_mem": "8MB"}})
	if err != nil {
		t.Fatalf("second Start: %v", err)
	}
	t.Cleanup(func() { c2.Stop() })
	if c2.URL("postgres") != c1.URL("postgres") {
		t.Errorf("URL changed: %q vs %q", c2.URL("postgres"), c1.URL("postgres"))
	}
	db2 := open(t, c2.URL("postgres"))
	if started2 := queryString(t, db2, "SELECT pg_postmaster_start_time()::text"); started2 != started1 {
		t.Errorf("postmaster start time changed from %s to %s: the second Start restarted the server", started1, started2)
	}
	if pid2 := postmasterPID(t, c2); pid2 != pid1 {
		t.Errorf("postmaster PID changed from %s to %s", pid1, pid2)
	}
	testwait.For(t, func() error {
		// A reload reaches backends asynchronously: ask a new one.
		db := open(t, c2.URL("postgres"))
		defer db.Close()
		if workMem := queryString(t, db, "SHOW work_mem"); workMem != "8MB" {
			return fmt.Errorf("work_mem after the second Start = %s, want 8MB", workMem)
		}
		return nil
	})
	// The first connection pool still works: the server was not restarted.
	if got := queryString(t, db1, "SELECT 'alive'"); got != "alive" {
		t.Errorf("first pool: %q", got)
	}

	db1.Close()
	db2.Close()
	if err := c2.Stop(); err != nil {
		t.Fatalf("Stop via second handle: %v", err)
	}
	// The server is down now; stopping through the first handle is a no-op.
	if err := c1.Stop(); err != nil {
		t.Fatalf("Stop via first handle after the server is down: %v", err)
	}
}

func postmasterPID(t *testing.T, c *Cluster) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.DataDir(), "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(string(b), "\n", 2)[0]
}

func TestLongDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	base := clusterDir(t)
	dir := filepath.Join(base, strings.Repeat("d", 60), strings.Repeat("e", 60))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for p := dir; ; p = filepath.Dir(p) {
		os.Chmod(p, 0o755) // traversable by the postgres user whatever the umask
		if p == base {
			break
		}
	}
	c := start(t, dir)
	if strings.HasPrefix(c.SocketDir(), dir) {
		t.Fatalf("SocketDir %q is inside the long cluster directory", c.SocketDir())
	}
	if n := len(filepath.Join(c.SocketDir(), ".s.PGSQL.5432")); n > maxSocketPath {
		t.Fatalf("socket path is %d bytes", n)
	}
	if c.SocketDir() != socketDir(dir) {
		t.Errorf("socket dir not derived from Dir: %q vs %q", c.SocketDir(), socketDir(dir))
	}
	db := open(t, c.URL("postgres"))
	if got := queryString(t, db, "SELECT 'ok'"); got != "ok" {
		t.Errorf("query: %q", got)
	}
	db.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.SocketDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fallback socket dir left behind after Stop: %v", err)
	}
}

func TestParentNotTraversable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	base := clusterDir(t) // mode 0700, owned by root
	if err := os.Chmod(base, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{Dir: filepath.Join(base, "cluster")})
	if err == nil {
		t.Fatal("Start succeeded under a directory the postgres user cannot enter")
	}
	if !strings.Contains(err.Error(), "cannot traverse "+base) {
		t.Errorf("error does not name the blocking directory %s: %v", base, err)
	}
	t.Logf("error: %v", err)
}
