package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/formats"
	"mortgaged/partners/signature"
)

// Authentication fault codes, in errors[].code of a 401 (or 403) problem.
const (
	CodeSignatureMissing   mortgage.Code = "signature_missing"
	CodeSignatureMalformed mortgage.Code = "signature_malformed"
	CodeKeyUnknown         mortgage.Code = "key_unknown"
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
		h := r.Header
		keyID, ts, nonce, sig, digest := h.Get(signature.HeaderKeyID), h.Get(signature.HeaderTimestamp),
			h.Get(signature.HeaderNonce), h.Get(signature.HeaderSignature), h.Get(signature.HeaderContentSHA256)
		for _, h := range [][2]string{{signature.HeaderKeyID, keyID}, {signature.HeaderTimestamp, ts},
			{signature.HeaderNonce, nonce}, {signature.HeaderContentSHA256, digest}, {signature.HeaderSignature, sig}} {
			if h[1] == "" { // the first missing header, in a fixed order, so the answer is the same each time
				s.unauthenticated(w, r, h[0], CodeSignatureMissing, "缺少签名请求头 "+h[0]+"（见 docs/signed-requests.md）")
				return
			}
		}
		unix, err := strconv.ParseInt(ts, 10, 64)
		switch {
		case err != nil:
			s.unauthenticated(w, r, signature.HeaderTimestamp, CodeSignatureMalformed, "时间戳应为 Unix 秒数")
			return
		case !signature.ValidNonce(nonce):
			s.unauthenticated(w, r, signature.HeaderNonce, CodeSignatureMalformed, "nonce 应为 16–64 个字母、数字、- 或 _")
			return
		case !isHexDigest(digest):
			s.unauthenticated(w, r, signature.HeaderContentSHA256, CodeSignatureMalformed, "请求体摘要应为 64 位小写十六进制 SHA-256")
			return
		}
		signer, err := s.Registry.KeyOwner(r.Context(), keyID)
		if errors.Is(err, partners.ErrUnauthenticated) {
			s.unauthenticated(w, r, signature.HeaderKeyID, CodeKeyUnknown, "密钥编号不存在、已过期、已吊销，或机构已停用")
			return
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		req := signature.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), BodySHA256: digest, Timestamp: unix, Nonce: nonce}
		switch err := signature.Verify(signer.Secret, req, sig, s.now()); {
		case errors.Is(err, signature.ErrExpired):
			s.unauthenticated(w, r, signature.HeaderTimestamp, CodeSignatureExpired, "时间戳与服务器时间相差超过 300 秒")
			return
		case err != nil:
			s.unauthenticated(w, r, signature.HeaderSignature, CodeSignatureMismatch, "签名不符：请按 docs/signed-requests.md 对所发送的原始字节签名")
			return
		}
		p := signer.Partner
		if len(p.ClientCerts) > 0 && !presentsCert(r, p.ClientCerts) {
			writeProblem(w, r, Problem{Status: http.StatusForbidden, Code: CodeForbidden, Detail: "该机构须通过双向 TLS 使用登记的客户端证书访问。",
				Errors: mortgage.Issues{{Field: "tls", Code: CodeClientCertificate, Message: "未出示该机构登记的客户端证书"}}})
			return
		}
		fresh, err := s.Registry.UseNonce(r.Context(), keyID, nonce)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if !fresh {
			s.unauthenticated(w, r, signature.HeaderNonce, CodeNonceReused, "该 nonce 已使用过：每个请求须使用新的 nonce（重放的请求不予受理）")
			return
		}
		release, retryAfter := s.limiter.admit(p)
		if release == nil {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
			writeProblem(w, r, Problem{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
				Detail: "请求过于频繁或并发过多，请在 Retry-After 秒后重试（重试是安全的）。"})
			return
		}
		defer release()
		addLog(r.Context(), slog.String("partner", p.ID))
		if s.streamsBody(r) {
			// Large uploads are checked as they stream; the handler
			// must read to the end before it commits anything.
			r.Body = &digestReader{body: r.Body, want: digest, h: sha256.New()}
		} else {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.bodyLimit(r)))
			if err != nil {
				s.Error(w, r, err)
				return
			}
			if signature.BodyDigest(body) != digest {
				s.Error(w, r, errBodyDigest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		f, err := s.formats().Get(p.Format)
		if err != nil {
			s.Error(w, r, err) // a partner registered with a format this node lacks: the centre's fault
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), partnerKey, p), formatKey, f)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request, field string, code mortgage.Code, message string) {
	w.Header().Set("WWW-Authenticate", signature.Algorithm)
	writeProblem(w, r, Problem{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
		Detail: "请求签名未通过验证：" + message + "。", Errors: mortgage.Issues{{Field: field, Code: code, Message: message}}})
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
var errBodyDigest = errors.New("request body does not match the signed digest")

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

// formatFrom is the authenticated partner's wire format (nil before
// authentication).
func formatFrom(ctx context.Context) *formats.Format {
	f, _ := ctx.Value(formatKey).(*formats.Format)
	return f
}

func (s *Server) formats() *formats.Set { return s.Formats }
