package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"mortgaged/mortgage"
	"mortgaged/mortgage/batches"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/fundbatch"
	"mortgaged/sync/push"
)

// StartBatches starts this node's batch worker (docs/batches.md); the
// returned function stops it, letting records in flight finish and handing
// the batch in hand back to the other nodes. With MORTGAGED_BATCH=off the
// node still takes uploads but decides none.
func (a *App) StartBatches(ctx context.Context) (stop func()) {
	bs := a.Config.Batch
	if bs.Off {
		return func() {}
	}
	node := push.NodeID()
	w := &batches.Worker{
		Service: a.Service,
		Decode:  decodeFundBatch,
		Render: func(dec *mortgage.Decision) (mortgage.Answer, error) {
			b, err := centrejson.EncodeDecision(dec, a.Config.Registration.Location)
			return mortgage.Answer{Status: http.StatusCreated, Body: b}, err
		},
		Node: node, Lease: bs.Lease, Parallel: bs.Parallel, Poll: bs.Poll, RetryAfter: bs.Retry,
		Log: a.Log.With(slog.String("worker", "batch")),
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	a.Log.Info("batch worker started", slog.String("node", node), slog.Int("parallel", bs.Parallel), slog.Duration("lease", bs.Lease))
	return func() { cancel(); <-done }
}

// decodeFundBatch reads a stored provident-fund batch file for the worker.
func decodeFundBatch(r io.Reader, fn func(batches.Item) error) error {
	_, err := fundbatch.Decode(r, func(rec fundbatch.Record) error {
		return fn(batches.Item{Index: rec.Index, Reference: rec.Reference, Application: rec.Application, Issues: rec.Issues})
	})
	return err
}
