package certkeys

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
)

// TestWatchLogsAnOutageOnce: while the database is away the key refresh
// logs once when the outage starts and once when it ends, not at every
// tick. Ticks are sent by the test, so nothing waits on a clock.
func TestWatchLogsAnOutageOnce(t *testing.T) {
	t.Parallel()
	out, d := pgtest.OpenOutage(t)
	s, err := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	k, err := Open(t.Context(), d, s)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(t.Context())
	ticks := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		k.watch(ctx, ticks, slog.New(slog.NewTextHandler(&logs, nil)))
		close(done)
	}()
	tick := func(n int) {
		for range n {
			ticks <- time.Time{} // taken only once the previous refresh is over
		}
	}
	out.Cut()
	tick(6)
	out.Restore()
	tick(3)
	cancel()
	<-done
	text := logs.String()
	if strings.Count(text, "signing key refresh paused: database unavailable") != 1 ||
		strings.Count(text, "signing key refresh resumed") != 1 || strings.Contains(text, `msg="refresh signing key"`) {
		t.Errorf("want one line when the outage starts and one when it ends:\n%s", text)
	}
	if k.KeyID() == "" {
		t.Error("no key after the outage")
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
