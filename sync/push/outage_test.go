package push

import (
	"bytes"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestOutageGate: runs skip while the database is down, each failure
// doubling the pause from 1 s up to 60 s; the outage is logged once when it
// starts and once when it ends; other errors are left to the caller.
func TestOutageGate(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	g := newOutageGate(slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now })
	down := fmt.Errorf("claim events for lj-bank: %w", driver.ErrBadConn)

	if g.shut() {
		t.Fatal("the gate is shut before any run")
	}
	var pauses []time.Duration
	for range 9 {
		if !g.observe("push of lj-bank", down) {
			t.Fatal("an outage was not handled by the gate")
		}
		start := now
		for g.shut() {
			now = now.Add(100 * time.Millisecond)
		}
		pauses = append(pauses, now.Sub(start))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i := range want {
		if pauses[i] != want[i]*time.Second {
			t.Fatalf("pauses %v, want %v seconds", pauses, want)
		}
	}
	if g.observe("push of lj-bank", errors.New("partner lj-bank: bad schedule")) {
		t.Error("an error that is no outage was swallowed by the gate")
	}
	if g.observe("push of lj-bank", nil) || g.shut() {
		t.Error("a successful run leaves the gate shut")
	}
	text := logs.String()
	if strings.Count(text, "push paused: database unavailable") != 1 || strings.Count(text, "push resumed") != 1 {
		t.Errorf("want one line when the outage starts and one when it ends:\n%s", text)
	}
}
