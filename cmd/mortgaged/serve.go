package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"

	"mortgaged/internal/app"
	"mortgaged/server"
)

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
	d, err := openDatabase(ctx, c, log, true)
	if err != nil {
		return err
	}
	d.stop = d.cluster != nil // the server owns the embedded cluster for its lifetime
	defer d.Close()
	defer watchCluster(ctx, d, log)() // stopped before the cluster is (deferred calls run last first)

	a, err := app.New(ctx, c, d.DB, log)
	if err != nil {
		return err
	}
	installTestHooks(a.Service, log) // only in a crashtest build
	a.Start(ctx)
	var next string
	if *demo {
		if next, err = loadDemo(ctx, c, d, a.Service, a.Registry, log); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}

	srv := a.Server
	defer a.StartBatches(ctx)() // stopped before the database closes: records in flight finish
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	if ln, err = tlsListener(c, ln); err != nil {
		return err
	}
	metricsAddr := listenMetrics(ctx, c.MetricsAddr, srv, log)
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("metrics", metricsAddr), slog.Bool("embedded_db", d.cluster != nil))
	if next != "" {
		fmt.Println(nextSteps(ln.Addr().String(), next))
	}
	scheduler, err := a.StartPush(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	retention, err := a.StartRetention()
	if err != nil {
		ln.Close()
		return err
	}
	// Shutdown order: HTTP (requests in flight commit or roll back), then
	// the schedulers (POSTs in flight are answered and recorded), then the
	// database (deferred).
	err = server.Serve(ctx, server.HTTPServer(srv, log), ln)
	if scheduler != nil {
		if serr := scheduler.Shutdown(context.WithoutCancel(ctx)); serr != nil {
			log.Warn("push scheduler shut down", slog.Any("error", serr))
		}
	}
	if retention != nil {
		if serr := retention.Shutdown(); serr != nil {
			log.Warn("retention job shut down", slog.Any("error", serr))
		}
	}
	log.Info("shut down", slog.Any("error", err))
	return err
}
