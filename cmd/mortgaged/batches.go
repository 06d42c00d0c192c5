package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"mortgaged/mortgage"
	"mortgaged/mortgage/batches"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/fundbatch"
	"mortgaged/server"
	"mortgaged/sync/push"
)

// batchSettings configure batch uploads and their processing on this node.
type batchSettings struct {
	Off      bool  // MORTGAGED_BATCH=off: this node accepts uploads but decides no records
	MaxBytes int64 // MORTGAGED_BATCH_MAX_MB
	Parallel int
	Lease    time.Duration
	Poll     time.Duration
	Retry    time.Duration
}

func loadBatchSettings() (batchSettings, error) {
	var s batchSettings
	switch v := env("MORTGAGED_BATCH", "on"); v {
	case "on":
	case "off":
		s.Off = true
	default:
		return s, fmt.Errorf("MORTGAGED_BATCH must be on or off, not %q", v)
	}
	mb, err := strconv.Atoi(env("MORTGAGED_BATCH_MAX_MB", "512"))
	if err != nil || mb < 1 || mb > 4096 {
		return s, fmt.Errorf("MORTGAGED_BATCH_MAX_MB must be a whole number of megabytes between 1 and 4096")
	}
	s.MaxBytes = int64(mb) << 20
	if s.Parallel, err = strconv.Atoi(env("MORTGAGED_BATCH_PARALLEL", "8")); err != nil || s.Parallel < 1 || s.Parallel > 64 {
		return s, fmt.Errorf("MORTGAGED_BATCH_PARALLEL must be a whole number between 1 and 64")
	}
	durations := []struct {
		name string
		into *time.Duration
		def  string
	}{
		{"MORTGAGED_BATCH_LEASE", &s.Lease, "30s"},
		{"MORTGAGED_BATCH_POLL", &s.Poll, "1s"},
		{"MORTGAGED_BATCH_RETRY", &s.Retry, "30s"},
	}
	for _, d := range durations {
		v, err := time.ParseDuration(env(d.name, d.def))
		if err != nil || v <= 0 {
			return s, fmt.Errorf("%s must be a duration such as %s", d.name, d.def)
		}
		*d.into = v
	}
	if s.Lease < 3*time.Second {
		return s, fmt.Errorf("MORTGAGED_BATCH_LEASE must be at least 3s: the claim is renewed every third of it")
	}
	return s, nil
}

// startBatches sets the upload limit and starts this node's batch worker;
// the returned function stops it, letting records in flight finish and
// handing the batch in hand back to the other nodes.
func startBatches(ctx context.Context, c config, d *database, svc *mortgage.Service, srv *server.Server, log *slog.Logger) (stop func(), err error) {
	bs, err := loadBatchSettings()
	if err != nil {
		return nil, err
	}
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
