package pushsig_test

import (
	"errors"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"mortgaged/sync/pushsig"
)

// workedExample reads the worked example partners are given in docs/webhooks.md.
func workedExample(t *testing.T) (secret, id string, ts time.Time, body, signature string) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s+(\S.*?)\s*$`).FindSubmatch(doc)
		if m == nil {
			t.Fatalf("docs/webhooks.md: worked example has no %q line", name)
		}
		return string(m[1])
	}
	sec, err := strconv.ParseInt(field("webhook-timestamp"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return field("secret"), field("webhook-id"), time.Unix(sec, 0), field("body"), field("webhook-signature")
}

// TestWorkedExample keeps the example in docs/webhooks.md true.
func TestWorkedExample(t *testing.T) {
	secret, id, ts, body, signature := workedExample(t)
	key, err := pushsig.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != pushsig.SecretSize {
		t.Errorf("the example secret has %d bytes, ours have %d", len(key), pushsig.SecretSize)
	}
	if got := pushsig.Sign(key, id, ts, []byte(body)); got != signature {
		t.Errorf("signature of the worked example = %s, the docs say %s", got, signature)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", signature)
	if _, err := pushsig.Verify(key, h, []byte(body), ts.Add(time.Minute), pushsig.DefaultTolerance); err != nil {
		t.Errorf("the worked example does not verify: %v", err)
	}
}

func TestVerify(t *testing.T) {
	key := pushsig.NewSecret()
	body := []byte(`{"id":"evt_1","type":"bundle.registered"}`)
	now := time.Unix(1767232800, 0)
	signed := func() http.Header {
		h := http.Header{}
		pushsig.SetHeaders(h, key, "evt_1", now, body)
		return h
	}
	t.Run("OK", func(t *testing.T) {
		id, err := pushsig.Verify(key, signed(), body, now.Add(299*time.Second), pushsig.DefaultTolerance)
		if err != nil || id != "evt_1" {
			t.Fatalf("Verify = %q, %v", id, err)
		}
	})
	t.Run("OKAmongSeveralSignatures", func(t *testing.T) {
		h := signed()
		h.Set("webhook-signature", "v1,AAAA v1a,xyz "+h.Get("webhook-signature"))
		if _, err := pushsig.Verify(key, h, body, now, pushsig.DefaultTolerance); err != nil {
			t.Fatal(err)
		}
	})
	cases := map[string]struct {
		edit func(h http.Header, body []byte) []byte
		want error
	}{
		"ErrSignatureFlippedByte": {func(h http.Header, b []byte) []byte {
			c := append([]byte(nil), b...)
			c[5] ^= 1
			return c
		}, pushsig.ErrSignature},
		"ErrSignatureOtherID": {func(h http.Header, b []byte) []byte { h.Set("webhook-id", "evt_2"); return b }, pushsig.ErrSignature},
		"ErrSignatureOtherSecret": {func(h http.Header, b []byte) []byte {
			pushsig.SetHeaders(h, pushsig.NewSecret(), "evt_1", now, b)
			return b
		}, pushsig.ErrSignature},
		"ErrTimestampTooOld": {func(h http.Header, b []byte) []byte {
			pushsig.SetHeaders(h, key, "evt_1", now.Add(-301*time.Second), b)
			return b
		}, pushsig.ErrTimestamp},
		"ErrTimestampFuture": {func(h http.Header, b []byte) []byte {
			pushsig.SetHeaders(h, key, "evt_1", now.Add(301*time.Second), b)
			return b
		}, pushsig.ErrTimestamp},
		"ErrMissingHeaders": {func(h http.Header, b []byte) []byte { h.Del("webhook-signature"); return b }, pushsig.ErrMissingHeaders},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := signed()
			b := c.edit(h, body)
			if _, err := pushsig.Verify(key, h, b, now, pushsig.DefaultTolerance); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestSecretFormat(t *testing.T) {
	key := pushsig.NewSecret()
	s := pushsig.FormatSecret(key)
	back, err := pushsig.ParseSecret(s)
	if err != nil || string(back) != string(key) {
		t.Fatalf("ParseSecret(FormatSecret(k)) = %x, %v", back, err)
	}
	if _, err := pushsig.ParseSecret("whsec_not base64!"); err == nil {
		t.Error("ParseSecret accepts a secret that is not base64")
	}
}
