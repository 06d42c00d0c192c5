package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"mortgaged/partners/requestsig"
)

// signed builds a request signed with partner's key, for tests to tamper with.
func (a *api) signed(partner, method, path string, body []byte, at time.Time) *http.Request {
	a.t.Helper()
	c := a.client(a.url, partner)
	c.Now = func() time.Time { return at }
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := c.Sign(req, body); err != nil {
		a.t.Fatal(err)
	}
	return req
}

func (a *api) send(req *http.Request, body []byte) response {
	a.t.Helper()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

func errorCode(t *testing.T, r response) string {
	t.Helper()
	var p struct {
		Errors []struct{ Code string }
	}
	_ = json.Unmarshal(r.body, &p)
	if len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Code
}

// TestSignedRequests proves PROMISES A2: replayed, expired, tampered and
// wrong-key requests are refused with 401 and change nothing.
func TestSignedRequests(t *testing.T) {
	t.Parallel()
	a := setup(t)
	body := a.body("LJB-SIG-1")
	now := a.now()

	t.Run("OK", func(t *testing.T) {
		req := a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, now)
		if r := a.send(req, body); r.status != http.StatusCreated {
			t.Fatalf("signed request: %d %s", r.status, r.body)
		}
		// The very same request again, headers and all: a replay.
		if r := a.send(req, body); r.status != http.StatusUnauthorized || errorCode(t, r) != "nonce_reused" {
			t.Errorf("replayed request: %d %s, want 401 nonce_reused", r.status, r.body)
		}
	})
	cases := []struct {
		name string
		req  func() (*http.Request, []byte)
		code string
	}{
		{"ErrExpired", func() (*http.Request, []byte) {
			return a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, now.Add(-requestsig.Window-time.Second)), body
		}, "signature_expired"},
		{"ErrFuture", func() (*http.Request, []byte) {
			return a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, now.Add(requestsig.Window+time.Second)), body
		}, "signature_expired"},
		{"ErrTamperedBody", func() (*http.Request, []byte) {
			return a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, now), bytes.Replace(body, []byte("800000.00"), []byte("900000.00"), 1)
		}, "body_digest_mismatch"},
		{"ErrTamperedDigestHeader", func() (*http.Request, []byte) {
			other := bytes.Replace(body, []byte("800000.00"), []byte("900000.00"), 1)
			req := a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, now)
			req.Header.Set(requestsig.HeaderContentSHA256, requestsig.BodyDigest(other))
			return req, other
		}, "signature_mismatch"},
		{"ErrTamperedPath", func() (*http.Request, []byte) {
			req := a.signed("lj-bank", http.MethodGet, "/v1/bundles?reference=LJB-SIG-1", nil, now)
			req.URL.RawQuery = "reference=LJB-SIG-2"
			return req, nil
		}, "signature_mismatch"},
		{"ErrWrongKey", func() (*http.Request, []byte) {
			req := a.signed("hc-bank", http.MethodPost, "/v1/bundles", body, now)
			req.Header.Set(requestsig.HeaderKeyID, a.keys["lj-bank"][3:19]) // claims bank A's key, signed with bank B's secret
			return req, body
		}, "signature_mismatch"},
		{"ErrUnknownKey", func() (*http.Request, []byte) {
			req := a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, now)
			req.Header.Set(requestsig.HeaderKeyID, "0000000000000000")
			return req, body
		}, "signature_mismatch"}, // the same answer as a wrong signature: key ids cannot be probed
		{"ErrMissingSignature", func() (*http.Request, []byte) {
			req := a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, now)
			req.Header.Del(requestsig.HeaderSignature)
			return req, body
		}, "signature_missing"},
		{"ErrBearerIsNotEnough", func() (*http.Request, []byte) {
			req, _ := http.NewRequest(http.MethodPost, a.url+"/v1/bundles", nil)
			req.Header.Set("Authorization", "Bearer "+a.keys["lj-bank"])
			return req, body
		}, "signature_missing"},
		{"ErrMalformedTimestamp", func() (*http.Request, []byte) {
			req := a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, now)
			req.Header.Set(requestsig.HeaderTimestamp, "yesterday")
			return req, body
		}, "signature_malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, b := c.req()
			r := a.send(req, b)
			if r.status != http.StatusUnauthorized || errorCode(t, r) != c.code || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%d %s, want 401 %s", r.status, r.body, c.code)
			}
		})
	}
	if n := a.count("bundles"); n != 1 {
		t.Errorf("%d bundles, want only the one properly signed", n)
	}
	t.Run("ErrDisabledPartner", func(t *testing.T) {
		if _, err := a.db.Exec(`UPDATE partners SET enabled = false WHERE id = 'hc-bank'`); err != nil {
			t.Fatal(err)
		}
		if r := a.do(http.MethodGet, "/v1/bundles?reference=x", "hc-bank", "", nil); r.status != http.StatusUnauthorized {
			t.Errorf("disabled partner: %d", r.status)
		}
	})
}

func TestKeyRotationOverlap(t *testing.T) {
	t.Parallel()
	a := setup(t)
	old := a.keys["lj-bank"]
	fresh, err := a.registry.RotateKey(t.Context(), "lj-bank", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"old": old, "new": fresh} {
		a.keys["lj-bank"] = key
		if r := a.do(http.MethodGet, "/v1/bundles?reference=none", "lj-bank", "", nil); r.status != http.StatusNotFound {
			t.Errorf("%s key during the overlap: %d %s, want 404 (authenticated)", name, r.status, r.body)
		}
	}
	if _, err := a.db.Exec(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE key_id = $1`, old[3:19]); err != nil {
		t.Fatal(err)
	}
	a.keys["lj-bank"] = old
	if r := a.do(http.MethodGet, "/v1/bundles?reference=none", "lj-bank", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("old key after the overlap: %d, want 401", r.status)
	}
}

// TestRateLimit proves PROMISES A5 in miniature: a partner over its rate
// gets 429 with Retry-After; another partner is still served.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	a := setup(t)
	if _, err := a.db.Exec(`UPDATE partners SET rate_per_minute = 6 WHERE id = 'lj-bank'`); err != nil {
		t.Fatal(err)
	}
	limited := 0
	for range 8 {
		r := a.do(http.MethodGet, "/v1/bundles?reference=none", "lj-bank", "", nil)
		if r.status == http.StatusTooManyRequests {
			limited++
			if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
			if !strings.Contains(string(r.body), "rate_limited") {
				t.Errorf("429 body %s", r.body)
			}
		}
	}
	if limited < 3 {
		t.Errorf("%d of 8 requests limited at 6/minute with a burst of 5, want at least 3", limited)
	}
	if r := a.do(http.MethodGet, "/v1/bundles?reference=none", "hc-bank", "", nil); r.status != http.StatusNotFound {
		t.Errorf("the other partner: %d, want to be served", r.status)
	}
}

// TestBodyLimitsPerRoute: each route takes bodies up to its own size (413 above).
func TestBodyLimitsPerRoute(t *testing.T) {
	t.Parallel()
	a := setup(t)
	big := []byte(`{"ids":["` + strings.Repeat("x", 2<<20) + `"]}`)
	if r := a.do(http.MethodPost, "/v1/events/ack", "lj-bank", "application/json", big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MB acknowledgement: %d, want 413", r.status)
	}
	if r := a.do(http.MethodGet, "/v1/bundles?reference=x", "lj-bank", "", bytes.Repeat([]byte("x"), 100<<10)); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("100 KB body on a GET: %d, want 413", r.status)
	}
	if r := a.post("lj-bank", a.body("LJB-LIMIT-1")); r.status != http.StatusCreated {
		t.Errorf("an ordinary bundle: %d %s", r.status, r.body)
	}
}
