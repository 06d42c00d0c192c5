package requestsig

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

var secret = []byte("Tj3xQ2m7ZpV9wK4rYc8sLb6nHf1dGa5eUo0iPq3RzXw")

// TestDocumentedExample keeps docs/signed-requests.md true.
func TestDocumentedExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/signed-requests.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Request{
		{Method: "POST", Path: "/v1/bundles", Body: []byte(`{"reference":"LJYH-DY-20261126-0001"}`), Timestamp: 1795657267, Nonce: "q7Zk1mP0sXb3Lw9tR2yVnA"},
		{Method: "GET", Path: "/v1/bundles", Query: url.Values{"reference": {"LJYH DY/1"}, "a": {"2", "1"}}, Timestamp: 1795657267, Nonce: "q7Zk1mP0sXb3Lw9tR2yVnB"},
	} {
		sts := StringToSign(r)
		if !strings.Contains(string(doc), "```text\n"+sts+"\n```") {
			t.Errorf("the doc lacks the string to sign:\n%s", sts)
		}
		if sig := Sign(secret, r); !strings.Contains(string(doc), "Signature: `"+sig+"`") {
			t.Errorf("the doc lacks the signature %s", sig)
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1795657267, 0)
	r := Request{Method: "POST", Path: "/v1/bundles", Body: []byte(`{"a":1}`), Timestamp: now.Unix(), Nonce: "q7Zk1mP0sXb3Lw9tR2yVnA"}
	sig := Sign(secret, r)
	if err := Verify(secret, r, sig, now.Add(299*time.Second)); err != nil {
		t.Fatalf("valid signature: %v", err)
	}
	tampered := func(f func(*Request)) Request { c := r; f(&c); return c }
	for name, c := range map[string]struct {
		r    Request
		sig  string
		now  time.Time
		want error
	}{
		"ErrBodyByte":    {tampered(func(r *Request) { r.Body = []byte(`{"a":2}`) }), sig, now, ErrMismatch},
		"ErrPath":        {tampered(func(r *Request) { r.Path = "/v1/batches" }), sig, now, ErrMismatch},
		"ErrMethod":      {tampered(func(r *Request) { r.Method = "PUT" }), sig, now, ErrMismatch},
		"ErrQuery":       {tampered(func(r *Request) { r.Query = url.Values{"x": {"1"}} }), sig, now, ErrMismatch},
		"ErrNonce":       {tampered(func(r *Request) { r.Nonce = "q7Zk1mP0sXb3Lw9tR2yVnB" }), sig, now, ErrMismatch},
		"ErrWrongKey":    {r, Sign([]byte("another secret another secret 123"), r), now, ErrMismatch},
		"ErrExpired":     {r, sig, now.Add(301 * time.Second), ErrExpired},
		"ErrFuture":      {r, sig, now.Add(-301 * time.Second), ErrExpired},
		"ErrNotBase64":   {r, "%%%", now, ErrMalformed},
		"ErrEmptyHeader": {r, "", now, ErrMismatch},
	} {
		if err := Verify(secret, c.r, c.sig, c.now); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	q := url.Values{"b": {"x y"}, "a": {"é", "~ok-._"}}
	if got, want := CanonicalQuery(q), "a=%C3%A9&a=~ok-._&b=x%20y"; got != want {
		t.Errorf("CanonicalQuery = %q, want %q", got, want)
	}
}

func TestParseKeyAndNonce(t *testing.T) {
	id, sec, err := ParseKey("mk_0123456789abcdef_" + string(secret))
	if err != nil || id != "0123456789abcdef" || string(sec) != string(secret) {
		t.Errorf("ParseKey = %q %q %v", id, sec, err)
	}
	for _, bad := range []string{"", "mk_", "mk_short_x", "xx_0123456789abcdef_" + string(secret)} {
		if _, _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if !ValidNonce("q7Zk1mP0sXb3Lw9tR2yVnA") || ValidNonce("short") || ValidNonce("has space in it 12345") {
		t.Error("ValidNonce")
	}
}
