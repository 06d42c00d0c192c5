//go:build !crashtest

package main

import (
	"log/slog"

	"mortgaged/mortgage"
)

// installTestHooks does nothing in a production build: the crash tests'
// hooks exist only in a binary built with -tags crashtest (testhooks_crashtest.go).
func installTestHooks(*mortgage.Service, *slog.Logger) {}
