package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/client"
	"mortgaged/server"
)

// fakeKeys is a partner registry of one key, in memory.
type fakeKeys struct {
	id     string
	signer partners.Signer
	nonces map[string]bool
}

func (k *fakeKeys) KeyOwner(_ context.Context, keyID string) (partners.Signer, error) {
	if keyID != k.id {
		return partners.Signer{}, partners.ErrUnauthenticated
	}
	return k.signer, nil
}

func (k *fakeKeys) UseNonce(_ context.Context, _, nonce string) (bool, error) {
	fresh := !k.nonces[nonce]
	k.nonces[nonce] = true
	return fresh, nil
}

// TestSignatureChecksWithoutDatabase: the signature, its time window and
// its nonce are checked before anything reaches the domain, so the checks
// run against an in-memory registry, on the server's own clock.
func TestSignatureChecksWithoutDatabase(t *testing.T) {
	t.Parallel()
	const key = "mk_0123456789abcdef_" + "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"
	keys := &fakeKeys{id: "0123456789abcdef", nonces: map[string]bool{},
		signer: partners.Signer{Partner: partners.Partner{ID: "lj-bank", Format: partners.FormatCentreJSON, RatePerMinute: 600, MaxConcurrent: 4},
			Secret: []byte("s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t")}}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	srv := server.New(nil, mortgage.NewService(nil, mortgage.Config{}), keys, slog.New(slog.DiscardHandler))
	srv.Now = func() time.Time { return now }
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	send := func(at time.Time, tamper func(*http.Request)) (int, string) {
		t.Helper()
		c, err := client.New(ts.URL, key)
		if err != nil {
			t.Fatal(err)
		}
		c.Now = func() time.Time { return at }
		// GET /v1/bundles without a reference: past authentication it is
		// a 400, before it a 401, and nothing on the way needs the database.
		req, err := http.NewRequest(http.MethodGet, ts.URL+"/v1/bundles", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Sign(req, nil); err != nil {
			t.Fatal(err)
		}
		if tamper != nil {
			tamper(req)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		return res.StatusCode, b.String()
	}
	tests := []struct {
		name   string
		at     time.Time
		tamper func(*http.Request)
		status int
		code   string
	}{
		{"OK", now, nil, http.StatusBadRequest, `"code":"bad_request"`},
		{"ErrFuture", now.Add(301 * time.Second), nil, http.StatusUnauthorized, `"code":"signature_expired"`},
		{"ErrPast", now.Add(-301 * time.Second), nil, http.StatusUnauthorized, `"code":"signature_expired"`},
		{"EdgeOfWindow", now.Add(300 * time.Second), nil, http.StatusBadRequest, `"code":"bad_request"`},
		{"ErrTampered", now, func(r *http.Request) { r.URL.RawQuery = "x=1" }, http.StatusUnauthorized, `"code":"signature_mismatch"`},
	}
	for _, tt := range tests {
		status, body := send(tt.at, tt.tamper)
		if status != tt.status || !strings.Contains(body, tt.code) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, body, tt.status, tt.code)
		}
	}
	t.Run("ErrNonceReused", func(t *testing.T) {
		var signed *http.Request
		keep := func(r *http.Request) { signed = r.Clone(r.Context()) }
		if status, body := send(now, keep); status != http.StatusBadRequest {
			t.Fatalf("first use: %d %s", status, body)
		}
		res, err := http.DefaultClient.Do(signed) // the same request again, nonce and all
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(b.String(), `"code":"nonce_reused"`) {
			t.Errorf("replayed: %d %s, want 401 nonce_reused", res.StatusCode, b.String())
		}
	})
}
