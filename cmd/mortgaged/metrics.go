package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"mortgaged/server"
)

// listenMetrics serves srv's Prometheus metrics on their own address,
// never on the public one, until ctx ends. When the address cannot be
// had (another node on the same host holds it) the node serves partners
// anyway and says so: registrations matter more than their metrics.
func listenMetrics(ctx context.Context, addr string, srv *server.Server, log *slog.Logger) string {
	if addr == "" {
		return ""
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("metrics not served", slog.String("addr", addr), slog.Any("error", err))
		return ""
	}
	hs := server.HTTPServer(srv.Metrics(), log)
	go func() {
		if err := server.Serve(ctx, hs, ln); err != nil && err != http.ErrServerClosed {
			log.Warn("metrics listener stopped", slog.Any("error", err))
		}
	}()
	return ln.Addr().String()
}
