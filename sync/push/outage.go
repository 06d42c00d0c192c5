package push

import (
	"log/slog"
	"sync"
	"time"

	"mortgaged/internal/db"
)

// outageGate holds the push back while the database is unavailable. The
// scheduler's jobs keep firing on their schedules; while the gate is shut
// they skip without a word, and it opens again after a wait that doubles
// from 1 s to 60 s with each failed run. The outage is logged when it
// starts and when it ends, not at every run of every partner.
type outageGate struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	outage *db.Outage
	until  time.Time
}

func newOutageGate(log *slog.Logger, now func() time.Time) *outageGate {
	return &outageGate{log: log, now: now, outage: db.NewOutage(time.Second, time.Minute)}
}

// shut reports whether a run must skip now.
func (g *outageGate) shut() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.outage.IsDown() && g.now().Before(g.until)
}

// observe notes a run's result and reports whether the error (if any) was
// an outage, and so is dealt with here.
func (g *outageGate) observe(what string, err error) (handled bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil && db.IsUnavailable(err) {
		wait, started := g.outage.Down()
		g.until = g.now().Add(wait)
		if started {
			g.log.Warn("push paused: database unavailable", slog.String("during", what), slog.Any("error", err))
		}
		return true
	}
	if g.outage.Up() {
		g.log.Info("push resumed: database available")
	}
	return false
}
