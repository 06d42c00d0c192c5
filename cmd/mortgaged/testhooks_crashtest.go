//go:build crashtest

package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"mortgaged/mortgage"
)

// installTestHooks arms the crash tests' hooks. With
// MORTGAGED_TEST_PAUSE_BEFORE_COMMIT=1 registrations pause inside their
// transaction so a test can kill the process there (PROMISES S1).
func installTestHooks(svc *mortgage.Service, log *slog.Logger) {
	if os.Getenv("MORTGAGED_TEST_PAUSE_BEFORE_COMMIT") != "1" {
		return
	}
	svc.BeforeCommit = func(ctx context.Context) {
		log.Warn("test hook: paused before commit")
		select {
		case <-ctx.Done():
		case <-time.After(time.Hour):
		}
	}
}
