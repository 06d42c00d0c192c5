package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"mortgaged/internal/certkeys"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/server"
)

// keyRefreshInterval is how soon a node signs with a key rotated elsewhere.
const keyRefreshInterval = 30 * time.Second

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	demo := fs.Bool("demo", false, "on first run, load a demo register and demo partners and print a sample request")
	c, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	log := newLogger(c.LogLevel)
	if c.MemoryLimitBytes > 0 {
		debug.SetMemoryLimit(c.MemoryLimitBytes)
	}
	d, err := openDatabase(ctx, c, log)
	if err != nil {
		return err
	}
	d.stop = d.cluster != nil // the server owns the embedded cluster for its lifetime
	defer d.Close()
	defer watchCluster(ctx, d, log)() // stopped before the cluster is (deferred calls run last first)

	sealer, err := c.sealer()
	if err != nil {
		return err
	}
	keys, err := certkeys.Open(ctx, d.DB, sealer)
	if err != nil {
		return err
	}
	go keys.Watch(ctx, keyRefreshInterval, log) // a rotation elsewhere reaches this node

	svc := mortgage.NewService(d.DB, c.Registration)
	svc.Signer = keys
	wire, err := c.formats()
	if err != nil {
		return err
	}
	svc.EncodeEvent = wire.EncodeEvent // each partner hears in its own format
	installTestHooks(svc, log)         // only in a crashtest build
	go reconcileSerials(ctx, svc, log)
	reg := &partners.Registry{DB: d.DB, Sealer: sealer}
	var next string
	if *demo {
		if next, err = loadDemo(ctx, c, d, svc, reg, log); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}

	srv := server.New(d.DB, svc, reg, log)
	srv.MaxBodyBytes = c.MaxBodyBytes
	srv.Keys, srv.PublicURL = keys, c.PublicURL
	srv.Formats = wire
	srv.BodyBudget = c.BodyBudgetBytes
	if err := mountConsole(srv, c, log); err != nil {
		return err
	}
	stopBatches, err := startBatches(ctx, c, d, svc, srv, log)
	if err != nil {
		return err
	}
	defer stopBatches() // records in flight finish before the database closes
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	if ln, err = c.tlsListener(ln); err != nil {
		return err
	}
	metricsAddr := listenMetrics(ctx, c.MetricsAddr, srv, log)
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("metrics", metricsAddr), slog.Bool("embedded_db", d.cluster != nil))
	if next != "" {
		fmt.Println(nextSteps(ln.Addr().String(), next))
	}
	scheduler, err := startPush(ctx, c, d, reg, log)
	if err != nil {
		ln.Close()
		return err
	}
	// Shutdown order: HTTP (requests in flight commit or roll back), then
	// the scheduler (POSTs in flight are answered and recorded), then the
	// database (deferred).
	err = server.Serve(ctx, server.HTTPServer(srv, log), ln)
	if scheduler != nil {
		if serr := scheduler.Shutdown(context.WithoutCancel(ctx)); serr != nil {
			log.Warn("push scheduler shut down", slog.Any("error", serr))
		}
	}
	log.Info("shut down", slog.Any("error", err))
	return err
}
