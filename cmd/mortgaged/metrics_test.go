package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"mortgaged/internal/pgtest"
)

// /metrics is served on its own address (MORTGAGED_METRICS_ADDR), never on
// the public one, and "off" serves it nowhere.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	p := start(t, []string{"DATABASE_URL=" + dbURL, "MORTGAGED_PUSH=off", "MORTGAGED_BATCH=off", "MORTGAGED_METRICS_ADDR=127.0.0.1:0"},
		"serve", "-addr", "127.0.0.1:0", "-data", t.TempDir())
	if status, _ := get(p.addr + "/metrics"); status != http.StatusNotFound {
		t.Errorf("GET /metrics on the public address: %d, want 404", status)
	}
	if status, body := get(p.metrics + "/metrics"); status != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("GET /metrics on the metrics address: %d %.200s", status, body)
	}
	off := start(t, []string{"DATABASE_URL=" + dbURL, "MORTGAGED_PUSH=off", "MORTGAGED_BATCH=off", "MORTGAGED_METRICS_ADDR=off"},
		"serve", "-addr", "127.0.0.1:0", "-data", t.TempDir())
	if off.metrics != "" {
		t.Errorf("MORTGAGED_METRICS_ADDR=off still serves metrics at %s", off.metrics)
	}
}
