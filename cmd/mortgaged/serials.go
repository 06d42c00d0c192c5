package main

import (
	"context"
	"log/slog"
	"time"

	"mortgaged/mortgage"
)

// serialReconcileInterval is how often a node explains certificate serials
// that a stopped process or database left unused (mortgage.ReconcileSerials).
const serialReconcileInterval = time.Hour

// reconcileSerials runs mortgage.ReconcileSerials at start (after a crash,
// when it matters) and then every interval, until ctx ends. Any node may
// run it; two at once record each number once.
func reconcileSerials(ctx context.Context, svc *mortgage.Service, log *slog.Logger) {
	for {
		n, err := svc.ReconcileSerials(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("certificate serials not reconciled", slog.Any("error", err))
		case n > 0:
			log.Info("certificate serials recorded as not committed", slog.Int64("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(serialReconcileInterval):
		}
	}
}
