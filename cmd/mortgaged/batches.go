package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"mortgaged/internal/config"
	"mortgaged/mortgage"
	"mortgaged/mortgage/batches"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/fundbatch"
	"mortgaged/server"
	"mortgaged/sync/push"
)

// startBatches sets the upload limit and starts this node's batch worker;
// the returned function stops it, letting records in flight finish and
// handing the batch in hand back to the other nodes.
func startBatches(ctx context.Context, c config.Config, d *database, svc *mortgage.Service, srv *server.Server, log *slog.Logger) (stop func(), err error) {
	bs := c.Batch
	srv.MaxBatchBytes = bs.MaxBytes
	if bs.Off {
		return func() {}, nil
	}
	node := push.NodeID()
	w := &batches.Worker{
		Service: svc,
		Decode:  decodeFundBatch,
		Render: func(dec *mortgage.Decision) (mortgage.Answer, error) {
			b, err := centrejson.EncodeDecision(dec, c.Registration.Location)
			return mortgage.Answer{Status: http.StatusCreated, Body: b}, err
		},
		Node: node, Lease: bs.Lease, Parallel: bs.Parallel, Poll: bs.Poll, RetryAfter: bs.Retry,
		Log: log.With(slog.String("worker", "batch")),
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	log.Info("batch worker started", slog.String("node", node), slog.Int("parallel", bs.Parallel), slog.Duration("lease", bs.Lease))
	return func() { cancel(); <-done }, nil
}

// decodeFundBatch reads a stored provident-fund batch file for the worker.
func decodeFundBatch(r io.Reader, fn func(batches.Item) error) error {
	_, err := fundbatch.Decode(r, func(rec fundbatch.Record) error {
		return fn(batches.Item{Index: rec.Index, Reference: rec.Reference, Application: rec.Application, Issues: rec.Issues})
	})
	return err
}
