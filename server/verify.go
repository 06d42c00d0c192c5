package server

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	qrcode "github.com/skip2/go-qrcode"

	"mortgaged/internal/fault"
	"mortgaged/internal/pii"
	"mortgaged/mortgage"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"idType": mortgage.IDTypeLabel,
	"maskID": maskPartyID,
	"yesNo": func(b bool) string {
		if b {
			return "是"
		}
		return "否"
	},
}).ParseFS(templateFS, "templates/*.html"))

// verifyAnswer is the online check's JSON answer: the certificate's status
// and nothing personal.
type verifyAnswer struct {
	Status      string `json:"status"` // valid, cancelled or unknown
	Number      string `json:"number"`
	IssuedAt    string `json:"issuedAt,omitempty"`
	CancelledAt string `json:"cancelledAt,omitempty"`
	Authority   string `json:"authority"`
}

// verify is the online check (证照核对) by certificate number and
// verification code. Browsers (Accept: text/html) get the Chinese page.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	if negotiate(r.Header.Get("Accept"), mediaJSON, "text/html") == "text/html" {
		s.verifyPage(w, r)
		return
	}
	q := r.URL.Query()
	number, code := strings.TrimSpace(q.Get("number")), strings.TrimSpace(q.Get("code"))
	var missing mortgage.Issues
	if number == "" {
		missing.Add("number", mortgage.CodeRequired, "请提供不动产登记证明号（number）")
	}
	if code == "" {
		missing.Add("code", mortgage.CodeRequired, "请提供核验码（code）")
	}
	if len(missing) > 0 {
		s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Issues: missing,
			Detail: "请用 GET /verify?number=<证明号>&code=<核验码> 核验。"})
		return
	}
	check, err := s.Service.CheckCertificate(r.Context(), number, code)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a := verifyAnswer{Status: check.Status, Number: number, Authority: check.Authority}
	if check.Status != mortgage.CheckUnknown {
		a.Number = check.Number
		a.IssuedAt = check.IssuedAt.In(s.Service.Config.Location).Format(time.RFC3339)
		if check.CancelledAt != nil {
			a.CancelledAt = check.CancelledAt.In(s.Service.Config.Location).Format(time.RFC3339)
		}
	}
	privateHeaders(w)
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Content-Type", mediaJSON)
	_ = json.NewEncoder(w).Encode(a)
}

// verifyPage is the online check for people: a form, and the answer when a
// number and code are given.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := struct {
		Number, Code string
		Asked        bool
		Status       string
		IssuedAt     string
		CancelledAt  string
		Authority    string
		PrintURL     string
	}{Number: strings.TrimSpace(q.Get("number")), Code: strings.TrimSpace(q.Get("code")), Authority: s.Service.Config.Authority}
	if data.Number != "" && data.Code != "" {
		check, err := s.Service.CheckCertificate(r.Context(), data.Number, data.Code)
		if err != nil {
			s.error(w, r, err)
			return
		}
		data.Asked, data.Status, data.Authority = true, check.Status, check.Authority
		if check.Status != mortgage.CheckUnknown {
			data.Number = check.Number
			data.IssuedAt = s.chineseTime(check.IssuedAt)
			if check.CancelledAt != nil {
				data.CancelledAt = s.chineseTime(*check.CancelledAt)
			}
			data.PrintURL = "/certificates/" + url.PathEscape(check.Number) + "/print?code=" + url.QueryEscape(mortgage.NormaliseVerificationCode(data.Code))
		}
	}
	s.renderPage(w, r, http.StatusOK, "verify.html", data)
}

// certificateView is what the print template shows.
type certificateView struct {
	*mortgage.Certificate
	Status       string
	IssuedAt     string
	CancelledAt  string
	RegisteredAt string
	KeyID        string
	VerifyURL    string
	QR           template.URL // data: URI of a PNG
}

// printCertificate is a printable view of the certificate for whoever holds
// its number and verification code, with a QR code that leads to the online
// check. ID numbers of people are masked: the signed document has them whole.
func (s *Server) printCertificate(w http.ResponseWriter, r *http.Request) {
	number, code := mux.Vars(r)["number"], r.URL.Query().Get("code")
	c, err := s.Service.CertificateByCode(r.Context(), number, code)
	if errors.Is(err, mortgage.ErrNotFound) {
		s.renderPage(w, r, http.StatusNotFound, "notfound.html", nil)
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	doc, err := mortgage.ParseCertificate(c.JSON)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := certificateView{Certificate: doc, Status: c.Status, KeyID: c.KeyID, IssuedAt: s.chineseTime(c.IssuedAt)}
	if c.CancelledAt != nil {
		v.CancelledAt = s.chineseTime(*c.CancelledAt)
	}
	if t, err := time.Parse(time.RFC3339, doc.RegisteredAt); err == nil {
		v.RegisteredAt = s.chineseTime(t)
	}
	v.VerifyURL = s.VerifyURL(c.Number, c.VerificationCode)
	png, err := qrcode.Encode(v.VerifyURL, qrcode.Medium, 256)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	s.renderPage(w, r, http.StatusOK, "print.html", v)
}

// VerifyURL is the online check's address for a certificate: what its QR
// code holds.
func (s *Server) VerifyURL(number, code string) string {
	base := strings.TrimRight(s.PublicURL, "/")
	if base == "" {
		base = DefaultPublicURL
	}
	return base + "/verify/page?" + url.Values{"number": {number}, "code": {code}}.Encode()
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.error(w, r, err)
		return
	}
	privateHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Inline styles and the QR code's data: URI only; no scripts at all.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// privateHeaders keep verification codes out of caches, referrers and
// search engines.
func privateHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

func (s *Server) chineseTime(t time.Time) string {
	return t.In(s.Service.Config.Location).Format("2006年01月02日 15:04")
}

// maskPartyID masks a person's ID number; organisations' codes are public.
func maskPartyID(p mortgage.CertificateParty) string {
	if p.IDType == mortgage.IDCreditCode || p.IDType == mortgage.IDOrgCode {
		return p.IDNumber
	}
	return pii.MaskID(p.IDNumber)
}
