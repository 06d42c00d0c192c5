package retention_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
	"mortgaged/sync/pglock"
	"mortgaged/sync/retention"
)

// records passes the logger's records to a channel, so that a test waits
// for what the job says it did instead of for time to pass.
type records chan slog.Record

func (r records) Enabled(context.Context, slog.Level) bool        { return true }
func (r records) Handle(_ context.Context, rec slog.Record) error { r <- rec; return nil }
func (r records) WithAttrs([]slog.Attr) slog.Handler              { return r }
func (r records) WithGroup(string) slog.Handler                   { return r }

// TestStart: the scheduled job runs at once, under the cluster-wide lock,
// and removes what outlived its period.
func TestStart(t *testing.T) {
	t.Parallel()
	d, err := db.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	exec(t, d, `INSERT INTO partners (id, kind, name, credit_code) VALUES ('lj-bank', 'bank', '龙江银行', '91230200MA1PGBENC0')`)
	event(t, d, "lj-bank", "ev-ancient", "delivered", time.Now().Add(-1000*day))
	event(t, d, "lj-bank", "ev-pending", "pending", time.Now().Add(-1000*day))

	log := make(records, 100)
	s, err := retention.Start(d, policy, time.Hour, pglock.New(d.DB, 0, nil), slog.New(log))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	deadline := time.After(time.Minute)
	for done := false; !done; {
		select {
		case rec := <-log:
			if rec.Level >= slog.LevelWarn {
				t.Fatalf("job: %s", rec.Message)
			}
			done = rec.Message == "retention: removed what outlived its period"
		case <-deadline:
			t.Fatal("the job did not run within a minute")
		}
	}
	if got := ids(t, d, `SELECT id FROM events`); len(got) != 1 || !got["ev-pending"] {
		t.Errorf("events left %v, want only the pending one", got)
	}
}
