package app_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"mortgaged/internal/app"
	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
	"mortgaged/mortgage"
)

// TestCalendarWatch: from 1 December, on the service's clock, a missing
// notice for next year is logged once per business day, not at every check.
func TestCalendarWatch(t *testing.T) {
	t.Parallel()
	d, err := db.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	shanghai := time.FixedZone("CST", 8*3600)
	svc := mortgage.NewService(d, mortgage.Config{Location: shanghai})
	var now time.Time
	svc.Now = func() time.Time { return now }
	var log bytes.Buffer
	w := &app.CalendarWatch{Service: svc, Log: slog.New(slog.NewTextHandler(&log, nil))}
	for _, x := range []struct {
		at   time.Time
		logs int // warnings logged so far
	}{
		{time.Date(2026, 11, 30, 23, 0, 0, 0, shanghai), 0},
		{time.Date(2026, 12, 1, 0, 5, 0, 0, shanghai), 1},
		{time.Date(2026, 12, 1, 1, 5, 0, 0, shanghai), 1},
		{time.Date(2026, 12, 1, 23, 59, 0, 0, shanghai), 1},
		{time.Date(2026, 12, 2, 0, 0, 0, 0, shanghai), 2},
	} {
		now = x.at
		w.Check(t.Context())
		if n := strings.Count(log.String(), "code=calendar_next_year_missing year=2027"); n != x.logs {
			t.Errorf("at %s: %d warnings logged, want %d:\n%s", x.at, n, x.logs, log.String())
		}
	}
}
