// Package requestsig is how a partner proves who sends a request: an
// HMAC-SHA256 over the method, path, query, a SHA-256 digest of the raw
// body, a timestamp and a nonce, keyed by the partner's secret. The scheme
// is documented, with a worked example, in docs/signed-requests.md; the
// client package partners use lives in partners/client.
package requestsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm names the scheme in the string to sign and the headers.
const Algorithm = "MGD1-HMAC-SHA256"

// Headers a signed request carries.
const (
	HeaderKeyID     = "X-Mgd-Key-Id"
	HeaderTimestamp = "X-Mgd-Timestamp" // unix seconds
	HeaderNonce     = "X-Mgd-Nonce"     // 16–64 characters from [A-Za-z0-9_-], once per key
	HeaderSignature = "X-Mgd-Signature" // base64 of the HMAC
	// HeaderContentSHA256 carries the body's digest (lower-case hex), so the
	// server can check the signature before reading a large body, and the
	// body against the digest as it arrives.
	HeaderContentSHA256 = "X-Mgd-Content-Sha256"
)

// Window is how far a request's timestamp may be from the server's clock.
const Window = 300 * time.Second

// Request is what is signed.
type Request struct {
	Method string
	Path   string     // escaped path, e.g. /v1/bundles
	Query  url.Values // may be nil
	Body   []byte
	// BodySHA256 is the hex digest of the body; when empty it is computed
	// from Body.
	BodySHA256 string
	Timestamp  int64
	Nonce      string
}

// BodyDigest is the lower-case hex SHA-256 of a body.
func BodyDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// StringToSign lays out the signed fields, one per line.
func StringToSign(r Request) string {
	digest := r.BodySHA256
	if digest == "" {
		digest = BodyDigest(r.Body)
	}
	return strings.Join([]string{
		Algorithm,
		strings.ToUpper(r.Method),
		r.Path,
		CanonicalQuery(r.Query),
		digest,
		strconv.FormatInt(r.Timestamp, 10),
		r.Nonce,
	}, "\n")
}

// CanonicalQuery sorts parameters by name, then value, and percent-encodes
// them (RFC 3986 unreserved characters stay as they are).
func CanonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Sign computes the signature of r under secret.
func Sign(secret []byte, r Request) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(StringToSign(r)))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verification faults. Each is a 401 for the caller.
var (
	ErrMissing   = errors.New("signature headers missing")
	ErrMalformed = errors.New("signature headers malformed")
	ErrExpired   = errors.New("timestamp outside the allowed window")
	ErrMismatch  = errors.New("signature does not match")
)

// Verify checks a signature against the request and the time now; the
// nonce's single use is the caller's job (it needs shared storage).
func Verify(secret []byte, r Request, signature string, now time.Time) error {
	if d := now.Sub(time.Unix(r.Timestamp, 0)); d > Window || d < -Window {
		return fmt.Errorf("%w (%s)", ErrExpired, d.Round(time.Second))
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return ErrMalformed
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(StringToSign(r)))
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrMismatch
	}
	return nil
}

// ValidNonce says whether a nonce has an acceptable shape.
func ValidNonce(n string) bool {
	if len(n) < 16 || len(n) > 64 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// KeyPrefix marks a partner key ("mk_<key id>_<secret>") so a leaked one is
// recognisable in a code scan.
const KeyPrefix = "mk_"

// ParseKey splits an issued key into its id and the secret bytes that key
// the HMAC.
func ParseKey(key string) (id string, secret []byte, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(key), KeyPrefix)
	id, sec, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 16 || len(sec) < 32 {
		return "", nil, fmt.Errorf("a key looks like %s<16 hex>_<secret>", KeyPrefix)
	}
	return id, []byte(sec), nil
}
