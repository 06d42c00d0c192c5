package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/formats"
	"mortgaged/partners/requestsig"
)

// Authentication fault codes, in errors[].code of a 401 (or 403) problem.
const (
	CodeSignatureMissing   mortgage.Code = "signature_missing"
	CodeSignatureMalformed mortgage.Code = "signature_malformed"
	CodeSignatureExpired   mortgage.Code = "signature_expired"
	CodeSignatureMismatch  mortgage.Code = "signature_mismatch"
	CodeNonceReused        mortgage.Code = "nonce_reused"
	CodeBodyDigest         mortgage.Code = "body_digest_mismatch"
	CodeClientCertificate  mortgage.Code = "client_certificate_required"
	CodeForbidden          mortgage.Code = "forbidden"
)

// authenticatePartner checks the request's signature (docs/signed-requests.md)
// before anything else happens: headers, key, timestamp window, signature
// over method, path, query and the declared body digest, then the nonce,
// once. The body is checked against the digest as the handler reads it.
func (s *Server) authenticatePartner(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			// Any refusal below leaves the body unread: close the
			// connection after the answer instead of reading the body
			// first (net/http drains up to 256 KB before it answers),
			// so a refused client costs neither memory nor waiting.
			// Kept off once the body is in.
			w.Header().Set("Connection", "close")
		}
		h := r.Header
		keyID, ts, nonce, sig, digest := h.Get(requestsig.HeaderKeyID), h.Get(requestsig.HeaderTimestamp),
			h.Get(requestsig.HeaderNonce), h.Get(requestsig.HeaderSignature), h.Get(requestsig.HeaderContentSHA256)
		for _, h := range [][2]string{{requestsig.HeaderKeyID, keyID}, {requestsig.HeaderTimestamp, ts},
			{requestsig.HeaderNonce, nonce}, {requestsig.HeaderContentSHA256, digest}, {requestsig.HeaderSignature, sig}} {
			if h[1] == "" { // the first missing header, in a fixed order, so the answer is the same each time
				s.unauthenticated(w, r, h[0], CodeSignatureMissing, "缺少签名请求头 "+h[0]+"（见 docs/signed-requests.md）")
				return
			}
		}
		unix, err := strconv.ParseInt(ts, 10, 64)
		switch {
		case err != nil:
			s.unauthenticated(w, r, requestsig.HeaderTimestamp, CodeSignatureMalformed, "时间戳应为 Unix 秒数")
			return
		case !requestsig.ValidNonce(nonce):
			s.unauthenticated(w, r, requestsig.HeaderNonce, CodeSignatureMalformed, "nonce 应为 16–64 个字母、数字、- 或 _")
			return
		case !isHexDigest(digest):
			s.unauthenticated(w, r, requestsig.HeaderContentSHA256, CodeSignatureMalformed, "请求体摘要应为 64 位小写十六进制 SHA-256")
			return
		}
		signer, err := s.Registry.KeyOwner(r.Context(), keyID)
		unknown := errors.Is(err, partners.ErrUnauthenticated)
		if err != nil && !unknown {
			s.error(w, r, err)
			return
		}
		if unknown {
			// An unknown, revoked or expired key id is checked against a
			// secret nobody holds, so it gets exactly the answer a wrong
			// signature gets: a prober learns nothing about which key ids
			// exist.
			signer.Secret = unknownKeySecret[:]
		}
		req := requestsig.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), BodySHA256: digest, Timestamp: unix, Nonce: nonce}
		switch err := requestsig.Verify(signer.Secret, req, sig, s.now()); {
		case errors.Is(err, requestsig.ErrExpired):
			s.unauthenticated(w, r, requestsig.HeaderTimestamp, CodeSignatureExpired, "时间戳与服务器时间相差超过 300 秒")
			return
		case err != nil || unknown:
			s.unauthenticated(w, r, requestsig.HeaderSignature, CodeSignatureMismatch, "签名不符：密钥编号无效（不存在、已过期、已吊销或机构已停用），或签名的不是所发送的原始字节（见 docs/signed-requests.md）")
			return
		}
		p := signer.Partner
		if len(p.ClientCerts) > 0 && !presentsCert(r, p.ClientCerts) {
			s.error(w, r, &fault.Error{Kind: fault.Forbidden, Code: CodeForbidden, Detail: "该机构须通过双向 TLS 使用登记的客户端证书访问。",
				Issues: []fault.Issue{{Field: "tls", Code: CodeClientCertificate, Message: "未出示该机构登记的客户端证书"}}})
			return
		}
		fresh, err := s.Registry.UseNonce(r.Context(), keyID, nonce)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if !fresh {
			s.unauthenticated(w, r, requestsig.HeaderNonce, CodeNonceReused, "该 nonce 已使用过：每个请求须使用新的 nonce（重放的请求不予受理）")
			return
		}
		release, retryAfter := s.limiter.admit(p)
		if release == nil {
			s.error(w, r, &fault.Error{Kind: fault.RateLimited, Code: CodeRateLimited, RetryAfter: time.Duration(retryAfter) * time.Second,
				Detail: "请求过于频繁或并发过多，请在 Retry-After 秒后重试（重试是安全的）。"})
			return
		}
		defer release()
		addLog(r.Context(), slog.String("partner", p.ID))
		ctx := r.Context()
		if s.streamsBody(r) {
			// Large uploads are checked as they stream; the handler
			// must read to the end before it commits anything.
			r.Body = &digestReader{body: r.Body, want: digest, h: sha256.New()}
			w.Header().Del("Connection") // the handler reads it to the end
		} else {
			limit := s.bodyLimit(r)
			if r.ContentLength > limit { // refused before a byte of it is read
				s.error(w, r, &http.MaxBytesError{Limit: limit})
				return
			}
			// Reserve the memory before reading: what was declared, or
			// the route's limit for a body of unknown length (chunked).
			if need := r.ContentLength; need != 0 {
				if need < 0 {
					need = limit
				}
				free := s.budget.take(need, s.bodyBudget())
				if free == nil {
					s.error(w, r, &fault.Error{Kind: fault.Unavailable, Code: CodeBusy, RetryAfter: 2 * time.Second,
						Detail: "服务器正在接收的请求体已达内存上限，请在 Retry-After 秒后重试（重试是安全的）。"})
					return
				}
				defer free()
			}
			body, err := s.readBody(w, r, limit)
			if err != nil {
				s.error(w, r, err)
				return
			}
			if requestsig.BodyDigest(body) != digest {
				s.error(w, r, errBodyDigest)
				return
			}
			// Handlers take these verified bytes (requestBody); the
			// reader is for those that decode a small body as a stream.
			r.Body = io.NopCloser(bytes.NewReader(body))
			ctx = context.WithValue(ctx, bodyKey, body)
			w.Header().Del("Connection")
		}
		f, err := s.formats().Get(p.Format)
		if err != nil {
			s.error(w, r, fmt.Errorf("partner %s: %w", p.ID, err)) // registered with a format this node lacks: the centre's fault
			return
		}
		ctx = context.WithValue(context.WithValue(ctx, partnerKey, p), formatKey, f)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// unknownKeySecret is drawn at start and never leaves the process.
var unknownKeySecret = func() (k [32]byte) {
	_, _ = rand.Read(k[:]) // crypto/rand does not fail on Linux
	return k
}()

// unauthenticated answers 401 (with WWW-Authenticate, as every
// Unauthenticated fault is) naming the header at fault.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request, field string, code mortgage.Code, message string) {
	s.error(w, r, signatureFault(field, code, message, nil))
}

// signatureFault is a refused signature: which header (or the body) and why.
func signatureFault(field string, code mortgage.Code, message string, cause error) *fault.Error {
	return &fault.Error{Kind: fault.Unauthenticated, Code: CodeUnauthenticated, Err: cause,
		Detail: "请求签名未通过验证：" + message + "。", Issues: []fault.Issue{{Field: field, Code: code, Message: message}}}
}

func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && s == strings.ToLower(s)
}

// presentsCert reports whether the TLS client certificate is one the
// partner registered.
func presentsCert(r *http.Request, allowed []string) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	return slices.Contains(allowed, hex.EncodeToString(sum[:]))
}

// StreamedUploads are the routes (method and path) whose bodies are too
// large to hold: their handlers read the body as a stream, checked against
// the signed digest at the end.
var StreamedUploads = map[string]bool{"POST /v1/batches": true}

// bodyLimit is the largest body a route takes (413 above it): a bundle with
// its documents gets MaxBodyBytes, one supplied document a little over the
// 10 MB document cap in base64 (so does an encumbrance query with its
// consent), an acknowledgement a page of ids, and reads
// next to nothing.
func (s *Server) bodyLimit(r *http.Request) int64 {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/bundles":
		return s.MaxBodyBytes
	case r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/materials") || r.URL.Path == "/v1/encumbrance-queries"):
		return min(s.MaxBodyBytes, 16<<20)
	case r.Method == http.MethodPost:
		return 1 << 20
	}
	return 64 << 10
}

func (s *Server) streamsBody(r *http.Request) bool {
	return StreamedUploads[r.Method+" "+r.URL.Path]
}

// errBodyDigest: the body read does not match the digest that was signed.
var errBodyDigest = signatureFault("body", CodeBodyDigest, "请求体与签名中的摘要不一致（传输中被改动，或签名的不是所发送的字节）",
	errors.New("request body does not match the signed digest"))

// digestReader hashes the body as the handler reads it and fails the last
// read when it does not match the signed digest, so no handler acts on a
// body that was not the one signed.
type digestReader struct {
	body io.ReadCloser
	want string
	h    hash.Hash
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.body.Read(p)
	d.h.Write(p[:n])
	if errors.Is(err, io.EOF) && hex.EncodeToString(d.h.Sum(nil)) != d.want {
		return n, errBodyDigest
	}
	return n, err
}

func (d *digestReader) Close() error { return d.body.Close() }

// readBody reads the whole body under limit, by the deadline
// BodyTimeout sets: a body that trickles in is cut off (408) rather than
// holding its connection and its share of the budget. A declared length is
// read into one buffer of that size, not a doubling one.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.bodyTimeout()))
	// Once the body is in, the deadline would only cancel the handler's
	// work (the server reads on in the background to notice a hang-up).
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	body := http.MaxBytesReader(w, r.Body, limit)
	var b []byte
	var err error
	if n := r.ContentLength; n >= 0 {
		b = make([]byte, n)
		_, err = io.ReadFull(body, b)
	} else {
		b, err = io.ReadAll(body)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, &fault.Error{Kind: fault.Timeout, Code: CodeRequestTimeout, Err: errBodyTimeout,
			Detail: "请求体未在 " + strconv.Itoa(int(s.bodyTimeout().Seconds())) + " 秒内传完，连接已断开；未作任何处理，请重新发送。"}
	}
	return b, err
}

// errBodyTimeout: the body did not arrive by its deadline.
var errBodyTimeout = errors.New("request body did not arrive in time")

// requestBody is the authenticated request's body, read once and checked
// against the signed digest (nil for streamed uploads).
func requestBody(r *http.Request) []byte {
	b, _ := r.Context().Value(bodyKey).([]byte)
	return b
}

// formatFrom is the authenticated partner's wire format (nil before
// authentication).
func formatFrom(ctx context.Context) *formats.Format {
	f, _ := ctx.Value(formatKey).(*formats.Format)
	return f
}

func (s *Server) formats() *formats.Set { return s.Formats }
