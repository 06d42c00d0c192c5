package batches

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mortgaged/internal/pgtest"
	"mortgaged/mortgage"
)

// TestBatchWorkerBacksOffWhileDatabaseDown: with the database gone the
// worker waits Poll, doubling up to MaxBackoff, and logs the outage once;
// when it is back the worker logs that once and polls at its pace again.
// The waits are counted, not slept.
func TestBatchWorkerBacksOffWhileDatabaseDown(t *testing.T) {
	t.Parallel()
	out, d := pgtest.OpenOutage(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	w := &Worker{Service: mortgage.NewService(d, mortgage.Config{}), Node: "n1", Poll: time.Second, MaxBackoff: 8 * time.Second,
		Log: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))}
	ctx, cancel := context.WithCancel(t.Context())
	var waits []time.Duration
	now := make(chan time.Time)
	close(now) // every wait ends at once
	w.after = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		switch len(waits) {
		case 7:
			out.Restore()
		case 10:
			cancel()
			return nil // never fires: the worker can only see ctx end
		}
		return now
	}
	out.Cut()
	w.Run(ctx)

	want := []time.Duration{1, 2, 4, 8, 8, 8, 8, 1, 1, 1}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v seconds", waits, want)
	}
	for i := range want {
		if waits[i] != want[i]*time.Second {
			t.Fatalf("waits %v, want %v seconds", waits, want)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	text := logs.String()
	if strings.Count(text, "batch processing paused: database unavailable") != 1 ||
		strings.Count(text, "batch processing resumed") != 1 || strings.Contains(text, "level=ERROR") {
		t.Errorf("want one line when the outage starts, one when it ends, no errors:\n%s", text)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
