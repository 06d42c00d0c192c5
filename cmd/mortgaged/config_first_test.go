package main

import (
	"strings"
	"testing"
)

// TestServeChecksConfigFirst: a wrong setting of any part (push, batches,
// console, retention) stops serve before it opens the database or binds
// its address, naming the variable; the database here does not exist, so
// a check made later would fail on the connection instead.
func TestServeChecksConfigFirst(t *testing.T) {
	t.Parallel()
	nowhere := "DATABASE_URL=postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"
	for _, bad := range []string{
		"MORTGAGED_PUSH_LEASE=21s",
		"MORTGAGED_PUSH_RETRY=0s,soon",
		"MORTGAGED_BATCH_PARALLEL=0",
		"MORTGAGED_CONSOLE_IDLE_TIMEOUT=10s",
		"MORTGAGED_RETENTION_EVENTS_DAYS=0",
	} {
		name, _, _ := strings.Cut(bad, "=")
		_, errOut, code := runBinary(t, []string{nowhere, bad}, "serve", "-data", t.TempDir(), "-addr", "127.0.0.1:0")
		if code == 0 || !strings.Contains(errOut, name) || strings.Contains(errOut, "connect") {
			t.Errorf("%s: exit %d, %s", bad, code, errOut)
		}
	}
}
