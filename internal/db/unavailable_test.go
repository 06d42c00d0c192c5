package db_test

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
)

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	pqErr := func(code string) error { return &pq.Error{Severity: "FATAL", Code: pqerror.Code(code)} }
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"no rows", sql.ErrNoRows, false},
		{"unique violation", pqErr("23505"), false},
		{"statement timeout", pqErr("57014"), false},
		{"serialization failure", pqErr("40001"), false},
		{"plain error", errors.New("boom"), false},
		{"admin shutdown", pqErr("57P01"), true},
		{"crash shutdown", pqErr("57P02"), true},
		{"starting up", pqErr("57P03"), true},
		{"too many connections", pqErr("53300"), true},
		{"connection failure", pqErr("08006"), true},
		{"connection does not exist", pqErr("08003"), true},
		{"bad connection", driver.ErrBadConn, true},
		{"connection done", sql.ErrConnDone, true},
		{"truncated body", fmt.Errorf("decode: %w", io.ErrUnexpectedEOF), false},
		{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, false},
		{"refused", &net.OpError{Op: "dial", Net: "unix", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, true},
		{"wrapped", fmt.Errorf("insert event: %w", fmt.Errorf("tx: %w", driver.ErrBadConn)), true},
		{"wrapped pq", fmt.Errorf("claim: %w", pqErr("57P01")), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := db.IsUnavailable(c.err); got != c.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

// TestIsUnavailableDialFails dials a socket nobody listens on, as the pool
// does while the embedded cluster is down.
func TestIsUnavailableDialFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, err := sql.Open("postgres", "postgres://postgres@/x?host="+dir+"&port=5432&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.PingContext(t.Context())
	if err == nil || !db.IsUnavailable(err) {
		t.Errorf("ping of a missing socket: %v, want an error classified unavailable", err)
	}
	_, err = db.Open(t.Context(), "postgres://postgres@/x?host="+filepath.Join(dir, "none")+"&port=5432&sslmode=disable")
	if err == nil || !db.IsUnavailable(err) {
		t.Errorf("db.Open of a missing socket: %v, want an error classified unavailable", err)
	}
}

// TestIsUnavailableTerminated ends the session under a live connection, as
// a fast shutdown or a crash of the server does.
func TestIsUnavailableTerminated(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	d, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	conn, err := d.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	other, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(t.Context(), `SELECT 1`)
	if err == nil || !db.IsUnavailable(err) {
		t.Errorf("query on a terminated session: %v, want an error classified unavailable", err)
	}
}

// TestTimeouts: every pooled session carries the configured timeouts, and
// a statement past its timeout is cancelled (and is no outage).
func TestTimeouts(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	d, err := db.OpenWith(t.Context(), url, db.Timeouts{Statement: 100 * time.Millisecond, IdleInTransaction: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var st, idle string
	if err := d.QueryRow(`SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')`).Scan(&st, &idle); err != nil {
		t.Fatal(err)
	}
	if st != "100ms" || idle != "7s" {
		t.Errorf("session timeouts %s and %s, want 100ms and 7s", st, idle)
	}
	_, err = d.Exec(`SELECT pg_sleep(5)`)
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "57014" {
		t.Fatalf("a statement past statement_timeout: %v, want 57014 query_canceled", err)
	}
	if db.IsUnavailable(err) {
		t.Errorf("a cancelled statement is classified as an outage")
	}
	// The defaults apply to db.Open.
	d2, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if err := d2.QueryRow(`SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')`).Scan(&st, &idle); err != nil {
		t.Fatal(err)
	}
	if st != "30s" || idle != "1min" {
		t.Errorf("default session timeouts %s and %s, want 30s and 1min", st, idle)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	o := db.NewOutage(time.Second, 60*time.Second)
	var waits []time.Duration
	var starts int
	for range 9 {
		w, started := o.Down()
		waits = append(waits, w)
		if started {
			starts++
		}
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i := range want {
		if waits[i] != want[i]*time.Second {
			t.Fatalf("waits %v, want %v seconds", waits, want)
		}
	}
	if starts != 1 {
		t.Errorf("%d failures reported as the start of an outage, want 1", starts)
	}
	if !o.Up() {
		t.Errorf("the first success after failures does not end the outage")
	}
	if o.Up() {
		t.Errorf("a second success ends an outage again")
	}
	if w, started := o.Down(); w != time.Second || !started {
		t.Errorf("after recovery: wait %v started %v, want 1s and a new outage", w, started)
	}
}

// TestIsUnavailableHandshakeEOF: a server that dies as we connect closes
// the socket mid-handshake; lib/pq returns that EOF bare, and the pool's
// connector marks it as an outage.
func TestIsUnavailableHandshakeEOF(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "pgeof")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("unix", dir+"/.s.PGSQL.5432")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = db.Open(t.Context(), "postgres://postgres@/x?host="+dir+"&port=5432&sslmode=disable")
	if err == nil || !db.IsUnavailable(err) {
		t.Errorf("a connection closed in the handshake: %v, want an error classified unavailable", err)
	}
}
