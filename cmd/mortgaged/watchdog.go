package main

import (
	"context"
	"log/slog"

	"mortgaged/internal/pgcluster"
)

// watchCluster keeps the embedded cluster this server owns running: if its
// postmaster dies, the watchdog starts it again and the pool reconnects by
// itself (requests meanwhile get 503 unavailable). The returned stop ends
// the watch; call it before the cluster is stopped on shutdown.
func watchCluster(ctx context.Context, d *database, log *slog.Logger) (stop func()) {
	if d.cluster == nil || !d.stop {
		return func() {} // an external database, or a cluster another process owns
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.cluster.Watch(ctx, pgcluster.WatchOptions{})
	}()
	log.Info("watching the embedded PostgreSQL server", slog.String("dir", d.cluster.Dir()))
	return func() { cancel(); <-done }
}
