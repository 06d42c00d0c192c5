package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/config"
	"mortgaged/partners"
	"mortgaged/sync/pglock"
	"mortgaged/sync/push"
)

// StartPush starts this node's push scheduler, or returns nil when the
// push is off on this node (MORTGAGED_PUSH=off).
func (a *App) StartPush(ctx context.Context) (*push.Scheduler, error) {
	return StartPush(ctx, a.Config, a.DB, a.Registry, a.Log)
}

// StartPush starts a push scheduler on d for reg's partners as c
// configures it (nil when c turns the push off): the scheduler of serve,
// for a tool that has a database and a registry but no whole App.
func StartPush(ctx context.Context, c config.Config, d *sqlx.DB, reg *partners.Registry, log *slog.Logger) (*push.Scheduler, error) {
	if c.Push.Off {
		return nil, nil
	}
	node := push.NodeID()
	dl := push.NewDeliverer(d, reg, node, c.Push.Config, log.With(slog.String("node", node)))
	s, err := push.NewScheduler(dl, push.SchedulerOptions{
		Location:  c.Registration.Location,
		Reconcile: c.Push.Reconcile,
		Locker:    pglock.New(d.DB, 0, log),
	})
	if err != nil {
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		return nil, fmt.Errorf("start push: %w", err)
	}
	log.Info("push scheduler started", slog.String("node", node), slog.Int("partners", len(s.Jobs())))
	return s, nil
}
