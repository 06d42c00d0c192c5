package app

import (
	"context"
	"fmt"
	"log/slog"

	"mortgaged/sync/pglock"
	"mortgaged/sync/push"
)

// StartPush starts this node's push scheduler, or returns nil when the
// push is off on this node (MORTGAGED_PUSH=off).
func (a *App) StartPush(ctx context.Context) (*push.Scheduler, error) {
	if a.Config.Push.Off {
		return nil, nil
	}
	node := push.NodeID()
	dl := push.NewDeliverer(a.DB, a.Registry, node, a.Config.Push.Config, a.Log.With(slog.String("node", node)))
	s, err := push.NewScheduler(dl, push.SchedulerOptions{
		Location:  a.Config.Registration.Location,
		Reconcile: a.Config.Push.Reconcile,
		Locker:    pglock.New(a.DB.DB, 0, a.Log),
	})
	if err != nil {
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		return nil, fmt.Errorf("start push: %w", err)
	}
	a.Log.Info("push scheduler started", slog.String("node", node), slog.Int("partners", len(s.Jobs())))
	return s, nil
}
