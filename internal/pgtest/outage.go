package pgtest

import (
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"mortgaged/internal/pgcluster"

	"github.com/jmoiron/sqlx"
)

// Outage stands between a test's pool and its database, on a unix socket of
// its own, so a test can take the database away from the code under test
// (Cut) and give it back (Restore) without touching the shared cluster.
type Outage struct {
	t      testing.TB
	target string // the cluster's socket file
	path   string // ours

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

// NewOutage relays the database at dbURL (from New) and returns the relay
// and the URL that goes through it.
func NewOutage(t testing.TB, dbURL string) (*Outage, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	q := u.Query()
	// A short directory: unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp("", "pgout")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port := q.Get("port")
	if port == "" {
		port = strconv.Itoa(pgcluster.Port)
	}
	o := &Outage{t: t, target: filepath.Join(q.Get("host"), ".s.PGSQL."+port), path: filepath.Join(dir, ".s.PGSQL."+port), conns: map[net.Conn]bool{}}
	o.Restore()
	t.Cleanup(o.Cut)
	q.Set("host", dir)
	u.RawQuery = q.Encode()
	return o, u.String()
}

// Cut takes the database away: open connections drop and new ones are
// refused, as when the server has died.
func (o *Outage) Cut() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		o.ln.Close() // removes the socket file
		o.ln = nil
	}
	for c := range o.conns {
		c.Close()
		delete(o.conns, c)
	}
}

// Restore brings the database back on the same socket.
func (o *Outage) Restore() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		return
	}
	ln, err := net.Listen("unix", o.path)
	if err != nil {
		o.t.Fatalf("pgtest: outage relay: %v", err)
	}
	o.ln = ln
	go o.accept(ln)
}

func (o *Outage) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("unix", o.target)
		if err != nil {
			c.Close()
			continue
		}
		o.mu.Lock()
		if o.ln != ln { // cut meanwhile
			o.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		o.conns[c], o.conns[up] = true, true
		o.mu.Unlock()
		go o.pipe(c, up)
		go o.pipe(up, c)
	}
}

func (o *Outage) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	o.mu.Lock()
	delete(o.conns, dst)
	delete(o.conns, src)
	o.mu.Unlock()
}

// OpenOutage is a fresh database behind an Outage, and a pool connected
// through it (closed when the test ends): what every outage test starts
// from.
func OpenOutage(t testing.TB) (*Outage, *sqlx.DB) {
	t.Helper()
	out, url := NewOutage(t, New(t))
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return out, d
}
