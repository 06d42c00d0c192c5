// Package app assembles the mortgage registration server from a
// config.Config, a migrated database and a logger: the one wiring that
// `mortgaged serve`, the benchmarks and the tools share, so that what they
// run is what production runs.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/config"
	"mortgaged/internal/seal"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/dialects"
	"mortgaged/partners/formats"
	"mortgaged/partners/xmlmap"
	"mortgaged/server"
)

// KeyRefreshInterval is how soon a node signs with a key rotated elsewhere.
const KeyRefreshInterval = 30 * time.Second

// serialReconcileInterval is how often a node explains certificate serials
// that a stopped process or database left unused (mortgage.ReconcileSerials).
const serialReconcileInterval = time.Hour

// App is one node's assembled parts.
type App struct {
	Config   config.Config
	DB       *sqlx.DB
	Log      *slog.Logger
	Sealer   *seal.Sealer
	Keys     *certkeys.Keyring
	Service  *mortgage.Service
	Registry *partners.Registry
	Formats  *formats.Set
	Server   *server.Server
}

// New wires the registration service, the partner registry and the HTTP
// server with the staff console as configured. It starts nothing: Start
// runs the node's background upkeep, and the callers start the batch
// worker, the push and the retention job.
func New(ctx context.Context, c config.Config, d *sqlx.DB, log *slog.Logger) (*App, error) {
	a := &App{Config: c, DB: d, Log: log}
	var err error
	if a.Sealer, err = OpenSealer(c); err != nil {
		return nil, err
	}
	if a.Keys, err = certkeys.Open(ctx, d, a.Sealer); err != nil {
		return nil, err
	}
	if a.Formats, err = Formats(c); err != nil {
		return nil, err
	}
	a.Service = mortgage.NewService(d, c.Registration)
	a.Service.Signer = a.Keys
	a.Service.EncodeEvent = a.Formats.EncodeEvent                                // each partner hears in its own format
	a.Registry = &partners.Registry{DB: d, Sealer: a.Sealer, Formats: a.Formats} // -format is checked against what this node speaks

	srv := server.New(d, a.Service, a.Registry, log)
	srv.MaxBodyBytes = c.MaxBodyBytes
	srv.Keys, srv.PublicURL = a.Keys, c.PublicURL
	srv.Formats = a.Formats
	srv.BodyBudget = c.BodyBudgetBytes
	srv.MaxBatchBytes = c.Batch.MaxBytes
	a.Server = srv
	if err := a.mountConsole(); err != nil {
		return nil, err
	}
	return a, nil
}

// Start runs the node's upkeep until ctx ends: signing keys rotated on
// another node are picked up, certificate serials a crash left unused
// are explained, and from 1 December a missing notice for next year is
// logged daily.
func (a *App) Start(ctx context.Context) {
	go a.Keys.Watch(ctx, KeyRefreshInterval, a.Log)
	go reconcileSerials(ctx, a.Service, a.Log)
	go (&CalendarWatch{Service: a.Service, Log: a.Log}).run(ctx)
}

// OpenSealer opens the master key (MORTGAGED_MASTER_KEY, else
// DataDir/master.key, created on first use) that protects secrets at rest.
func OpenSealer(c config.Config) (*seal.Sealer, error) {
	k, err := seal.LoadMasterKey(c.MasterKey, c.MasterKeyFile())
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return seal.New(k)
}

// Formats loads the wire formats, with the bank dialects from DialectDir or
// the shipped mapping files: a broken mapping file stops the server here.
func Formats(c config.Config) (*formats.Set, error) {
	var set *xmlmap.Set
	var err error
	if c.DialectDir != "" {
		set, err = xmlmap.LoadDir(c.DialectDir)
	} else {
		set, err = xmlmap.Load(dialects.Files)
	}
	if err != nil {
		return nil, fmt.Errorf("bank dialects: %w", err)
	}
	return formats.New(c.Registration.Location, set)
}

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
