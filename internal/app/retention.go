package app

import (
	"log/slog"

	"github.com/go-co-op/gocron/v2"

	"mortgaged/sync/pglock"
	"mortgaged/sync/retention"
)

// StartRetention starts the retention job (docs/retention.md), which one
// node at a time runs; nil when MORTGAGED_RETENTION=off on this node.
func (a *App) StartRetention() (gocron.Scheduler, error) {
	r := a.Config.Retention
	if r.Off {
		return nil, nil
	}
	p := retention.Policy{BatchChunks: r.BatchChunks, DeliveredEvents: r.DeliveredEvents, Deliveries: r.Deliveries}
	s, err := retention.Start(a.DB, p, r.Interval, pglock.New(a.DB.DB, 0, a.Log), a.Log.With(slog.String("job", retention.JobName)))
	if err != nil {
		return nil, err
	}
	a.Log.Info("retention job started", slog.Duration("interval", r.Interval))
	return s, nil
}
