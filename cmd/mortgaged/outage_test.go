package main

import (
	"encoding/json"
	"fmt"
	"mortgaged/internal/testwait"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// TestEmbeddedDatabaseKilledUnderLoad proves PROMISES R3 on the real
// binary: the embedded PostgreSQL's postmaster is killed (SIGKILL) while
// signed submissions run against the server. Meanwhile the answers are 201
// or 503 unavailable with Retry-After, never 500; the server restarts the
// cluster by itself and registrations resume; every acknowledged bundle is
// in the database afterwards, each exactly once.
func TestEmbeddedDatabaseKilledUnderLoad(t *testing.T) {
	t.Parallel()
	root, err := os.MkdirTemp("", "mortgaged-outage-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil { // the cluster's user must pass through
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	p := start(t, []string{"DATABASE_URL="}, "serve", "-data", data, "-addr", "127.0.0.1:0")
	pg := filepath.Join(data, "pg")
	d, err := sqlx.Open("postgres", "postgres://postgres@/mortgaged?host="+filepath.Join(pg, "run")+"&port=5432&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bank, key := addBank(t, d)
	const bundles, clients = 40, 4
	bodies := make([][]byte, bundles)
	for i := range bodies {
		bodies[i] = cleanBundleOn(t, d, bank, fmt.Sprintf("LJB-OUTAGE-%03d", i), i+1)
	}

	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		acked    []string // bundle ids answered 201
		problems []string
	)
	fifthAck := make(chan struct{})
	work := make(chan int, bundles)
	for i := range bundles {
		work <- i
	}
	close(work)
	deadline := time.Now().Add(3 * time.Minute)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range work {
				for {
					status, answer, err := post(p.addr, key, bodies[i])
					mu.Lock()
					statuses[status]++
					switch {
					case err != nil:
						problems = append(problems, fmt.Sprintf("bundle %d: %v", i, err))
					case status == http.StatusCreated:
						var dec struct {
							BundleID string `json:"bundleId"`
						}
						if err := json.Unmarshal(answer, &dec); err != nil || dec.BundleID == "" {
							problems = append(problems, fmt.Sprintf("bundle %d: 201 without a bundle id: %s", i, answer))
						}
						acked = append(acked, dec.BundleID)
						if len(acked) == 5 {
							close(fifthAck)
						}
					case status != http.StatusServiceUnavailable || !strings.Contains(string(answer), `"code":"unavailable"`):
						problems = append(problems, fmt.Sprintf("bundle %d: %d %s", i, status, answer))
					}
					mu.Unlock()
					if status == http.StatusCreated || err != nil || time.Now().After(deadline) {
						break
					}
					if status != http.StatusServiceUnavailable {
						break
					}
					time.Sleep(50 * time.Millisecond) // a client's pause before retrying, shorter than Retry-After to keep the test short
				}
			}
		})
	}

	<-fifthAck
	pidLine, err := os.ReadFile(filepath.Join(pg, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(pidLine), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The outage is seen from outside: /readyz is 503 with Retry-After.
	testwait.For(t, func() error {
		res, err := http.Get(p.addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable {
			return fmt.Errorf("/readyz is %d, not yet reporting the outage", res.StatusCode)
		}
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("/readyz during the outage has no Retry-After")
		}
		return nil
	})
	p.waitFor("restarted PostgreSQL server")
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for _, pr := range problems {
		t.Error(pr)
	}
	t.Logf("answers by status: %v", statuses)
	if statuses[http.StatusInternalServerError] > 0 {
		t.Errorf("%d answers were 500", statuses[http.StatusInternalServerError])
	}
	if len(acked) != bundles {
		t.Fatalf("%d of %d bundles acknowledged before the deadline", len(acked), bundles)
	}
	var found, total int
	if err := d.Get(&found, `SELECT count(*) FROM bundles WHERE id = ANY($1)`, pq.Array(acked)); err != nil {
		t.Fatal(err)
	}
	if err := d.Get(&total, `SELECT count(*) FROM bundles`); err != nil {
		t.Fatal(err)
	}
	if found != bundles || total != bundles {
		t.Errorf("%d of %d acknowledged bundles in the database, %d bundles in all; want every one, once", found, bundles, total)
	}
	p.terminate()
	if _, err := os.Stat(filepath.Join(pg, "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("PostgreSQL still running after the server stopped (postmaster.pid: %v)", err)
	}
}
