package pgtest_test

import (
	"context"
	"database/sql"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"mortgaged/internal/pgcluster"
	"mortgaged/internal/pgtest"
)

// leftOpen is a connection to the template that prepare deliberately does
// not close: pgtest must cut it off, or cloning the template would fail.
var leftOpen *sql.DB

func TestMain(m *testing.M) {
	pgtest.Main(m, func(ctx context.Context, url string) error {
		db, err := sql.Open("postgres", url)
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE hello (id serial PRIMARY KEY, who text NOT NULL)`); err != nil {
			return err
		}
		leftOpen = db
		return nil
	})
}

// Two parallel tests each write into their own database and then, once both
// have written, check that they see only their own row.
var (
	wroteA = make(chan struct{})
	wroteB = make(chan struct{})
)

func TestIsolation(t *testing.T) {
	t.Run("A", func(t *testing.T) {
		t.Parallel()
		isolation(t, "A", wroteA, wroteB)
	})
	t.Run("B", func(t *testing.T) {
		t.Parallel()
		isolation(t, "B", wroteB, wroteA)
	})
}

func isolation(t *testing.T, who string, mine, theirs chan struct{}) {
	db := pgtest.Open(t)

	var n int
	if err := db.Get(&n, `SELECT count(*) FROM hello`); err != nil {
		t.Fatalf("table hello from the template: %v", err)
	}
	if n != 0 {
		t.Fatalf("fresh database has %d rows in hello, want 0", n)
	}
	if _, err := db.Exec(`INSERT INTO hello (who) VALUES ($1)`, who); err != nil {
		t.Fatal(err)
	}
	close(mine)
	select {
	case <-theirs:
	case <-time.After(time.Minute):
		t.Fatal("the other test never wrote its row")
	}

	var seen []string
	if err := db.Select(&seen, `SELECT who FROM hello ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != who {
		t.Errorf("test %s sees rows %q, want only [%s]", who, seen, who)
	}
}

func TestManyParallelDatabases(t *testing.T) {
	urls := make(chan string, 12)
	t.Run("group", func(t *testing.T) {
		for i := range 12 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				url := pgtest.New(t)
				urls <- url
				db, err := sqlx.Open("postgres", url)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Exec(`INSERT INTO hello (who) VALUES ($1)`, fmt.Sprint(i)); err != nil {
					t.Fatal(err)
				}
				var n int
				if err := db.Get(&n, `SELECT count(*) FROM hello`); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("%d rows, want 1", n)
				}
			})
		}
	})
	close(urls)
	seen := map[string]bool{}
	for u := range urls {
		if seen[u] {
			t.Errorf("URL handed out twice: %s", u)
		}
		seen[u] = true
	}

	// The passing subtests' databases were dropped.
	admin := openAdmin(t)
	for u := range seen {
		pu, err := neturl.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(pu.Path, "/")
		var exists bool
		if err := admin.Get(&exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s of a passed test was not dropped", name)
		}
	}
}

func openAdmin(t *testing.T) *sqlx.DB {
	t.Helper()
	c := pgtest.Cluster()
	if c == nil {
		t.Fatal("Cluster() is nil inside Main")
	}
	db, err := sqlx.Open("postgres", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestTemplateSealed(t *testing.T) {
	admin := openAdmin(t)
	var allow bool
	if err := admin.Get(&allow, `SELECT datallowconn FROM pg_database WHERE datname = 'pgtest_template'`); err != nil {
		t.Fatal(err)
	}
	if allow {
		t.Error("template database still accepts connections")
	}
	defer leftOpen.Close()
	if err := leftOpen.Ping(); err == nil {
		// database/sql may dial a new connection; that must be refused.
		t.Error("connection to the template still works after Main sealed it")
	}
}

// TestFailsOnPurpose fails so TestKeptOnFailure can watch what happens to
// its database; it only runs inside that test's child process.
func TestFailsOnPurpose(t *testing.T) {
	if os.Getenv("PGTEST_FAIL_ON_PURPOSE") != "1" {
		t.Skip("run by TestKeptOnFailure")
	}
	db := pgtest.Open(t)
	if _, err := db.Exec(`INSERT INTO hello (who) VALUES ('evidence')`); err != nil {
		t.Fatal(err)
	}
	t.Error("failing on purpose")
}

func TestKeptOnFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second cluster")
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailsOnPurpose$", "-test.v")
	cmd.Env = append(os.Environ(), "PGTEST_FAIL_ON_PURPOSE=1", "PGTEST_KEEP=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child test run succeeded; want failure. Output:\n%s", out)
	}
	m := regexp.MustCompile(`pgtest: 1 test database\(s\) kept in (\S+) \(server stopped\)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no 'kept in' line in output:\n%s", out)
	}
	dir := string(m[1])
	t.Cleanup(func() { os.RemoveAll(dir) })
	um := regexp.MustCompile(`kept database for failed test: (\S+)`).FindSubmatch(out)
	if um == nil {
		t.Fatalf("no 'kept database for failed test' line in output:\n%s", out)
	}
	url := string(um[1])
	for _, want := range []string{"start the server again with:", "pg_ctl start", "TestFailsOnPurpose: " + url} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("server in kept cluster still running? postmaster.pid: %v", err)
	}

	// Starting the kept cluster again gives back the failed test's data at
	// the printed URL.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var who string
	if err := db.Get(&who, `SELECT who FROM hello`); err != nil {
		t.Fatalf("kept database at %s: %v", url, err)
	}
	if who != "evidence" {
		t.Errorf("kept database has %q, want %q", who, "evidence")
	}
}
