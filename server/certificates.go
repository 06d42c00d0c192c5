package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/jmoiron/sqlx"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/fault"
	"mortgaged/mortgage"
)

// KeySource lists the published certificate-signing keys, active and retired.
type KeySource interface {
	PublicKeys(ctx context.Context) ([]certkeys.PublicKey, error)
}

// dbKeys reads the keys straight from the database when no KeySource is set.
type dbKeys struct{ db *sqlx.DB }

func (k dbKeys) PublicKeys(ctx context.Context) ([]certkeys.PublicKey, error) {
	return certkeys.PublicKeys(ctx, k.db)
}

// DefaultPublicURL is where people reach the server when no public URL is
// configured: the QR code on a printed certificate leads there.
const DefaultPublicURL = "http://127.0.0.1:8080"

// Certificate media types and headers.
const (
	mediaJSON = "application/json"
	mediaXML  = "application/xml"

	headerSignature = "Certificate-Signature" // base64 Ed25519 signature over the body
	headerKeyID     = "Certificate-Key-Id"
	headerStatus    = "Certificate-Status" // valid or cancelled, now
)

// registerCertificateRoutes adds the public check (no credentials: anyone
// holding a certificate can check it) to root and the partner's own
// certificates to api.
func (s *Server) registerCertificateRoutes(root, api *mux.Router) {
	root.HandleFunc(certkeys.KeySetPath, s.publishedKeys).Methods(http.MethodGet)
	root.HandleFunc("/verify/page", s.verifyPage).Methods(http.MethodGet)
	root.HandleFunc("/verify", s.verify).Methods(http.MethodGet)
	root.HandleFunc("/certificates/{number}/print", s.printCertificate).Methods(http.MethodGet)
	api.HandleFunc("/certificates/{number}", s.getCertificate).Methods(http.MethodGet)
}

// getCertificate returns the partner's certificate exactly as issued: the
// JSON document (or, with Accept: application/xml, the XML rendering) with
// its detached signature in headers, or with ?envelope=1 both in one JSON
// envelope that `mortgaged verify` reads. Another partner's certificate is 404.
func (s *Server) getCertificate(w http.ResponseWriter, r *http.Request) {
	c, err := s.Service.Certificate(r.Context(), partnerFrom(r.Context()).ID, mux.Vars(r)["number"])
	if errors.Is(err, mortgage.ErrNotFound) {
		s.error(w, r, &fault.Error{Kind: fault.NotFound, Code: CodeNotFound, Detail: "没有找到贵机构的该不动产登记证明。"})
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	media, doc, sig := mediaJSON, c.JSON, c.JSONSignature
	if negotiate(r.Header.Get("Accept"), mediaJSON, mediaXML) == mediaXML {
		media, doc, sig = mediaXML, c.XML, c.XMLSignature
	}
	addLog(r.Context(), slog.String("certificate", c.Number))
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Cache-Control", "private, no-cache") // the status can change
	w.Header().Set(headerKeyID, c.KeyID)
	w.Header().Set(headerStatus, c.Status)
	if v, _ := strconv.ParseBool(r.URL.Query().Get("envelope")); v {
		b, err := json.MarshalIndent(certkeys.Envelope{
			Format: certkeys.EnvelopeFormat, Number: c.Number, Status: c.Status, VerificationCode: c.VerificationCode,
			KeyID: c.KeyID, Algorithm: certkeys.Algorithm, MediaType: media,
			Document: base64.StdEncoding.EncodeToString(doc), Signature: base64.StdEncoding.EncodeToString(sig),
		}, "", "  ")
		if err != nil {
			s.error(w, r, err)
			return
		}
		w.Header().Set("Content-Type", mediaJSON)
		_, _ = w.Write(append(b, '\n'))
		return
	}
	w.Header().Set(headerSignature, base64.StdEncoding.EncodeToString(sig))
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	_, _ = w.Write(doc)
}

// publishedKeys serves every signing key ever used, so certificates signed
// before a rotation keep verifying.
func (s *Server) publishedKeys(w http.ResponseWriter, r *http.Request) {
	src := s.Keys
	if src == nil {
		src = dbKeys{s.DB}
	}
	keys, err := src.PublicKeys(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	b, err := certkeys.MarshalKeySet(keys, s.Service.Config.Location)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*") // verifiers may run in a browser
	_, _ = w.Write(append(b, '\n'))
}

// negotiate picks the offer the Accept header prefers (by q, then by
// order), the first offer when nothing matches or Accept is absent.
func negotiate(accept string, offers ...string) string {
	best, bestQ := offers[0], -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		for _, o := range offers {
			if q > bestQ && q > 0 && matches(mt, o) {
				best, bestQ = o, q
			}
		}
	}
	return best
}

// matches reports whether a media range (text/*, */*, text/xml for
// application/xml) covers offer.
func matches(mediaRange, offer string) bool {
	switch {
	case mediaRange == offer, mediaRange == "*/*":
		return true
	case offer == mediaXML && mediaRange == "text/xml":
		return true
	case strings.HasSuffix(mediaRange, "/*"):
		return strings.HasPrefix(offer, strings.TrimSuffix(mediaRange, "*"))
	}
	return false
}
