package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/pii"
	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
)

// publicURL is the address people are sent to by the printed QR code.
const publicURL = "https://bdc.qqhr.example"

// get sends a GET, signed for partner when one is named, with an optional Accept header.
func (a *api) get(path, partner, accept string) response {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if partner != "" {
		c := a.client(a.url, partner)
		if err := c.Sign(req, nil); err != nil {
			a.t.Fatal(err)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

// register submits a clean bundle for bank A and returns the certificate
// number and verification code issued.
func (a *api) register(ref string) (number, code string) {
	a.t.Helper()
	res := a.post("lj-bank", a.body(ref))
	if res.status != http.StatusCreated {
		a.t.Fatalf("register %s: %d %s", ref, res.status, res.body)
	}
	reg, _ := res.json(a.t)["registration"].(map[string]any)
	number, _ = reg["certificateNumber"].(string)
	if err := a.db.Get(&code, `SELECT verification_code FROM certificates WHERE number = $1`, number); err != nil {
		a.t.Fatalf("certificate of %s: %v", ref, err)
	}
	return number, code
}

func (a *api) cancel(ref, number string) {
	a.t.Helper()
	body, err := centrejson.EncodeApplication(&mortgage.Application{
		Reference: ref, Type: mortgage.Cancellation,
		Mortgagee:    mortgage.Party{Name: bankA.Name, IDType: mortgage.IDCreditCode, IDNumber: bankA.CreditCode},
		Cancellation: &mortgage.CancellationTerms{CertificateNumber: number, Reason: "主债权已清偿"},
		Materials:    []mortgage.Material{material("application_form"), material("debt_extinguished_proof")},
	})
	if err != nil {
		a.t.Fatal(err)
	}
	if res := a.post("lj-bank", body); res.status != http.StatusCreated || !bytes.Contains(res.body, []byte(`"status":"registered"`)) {
		a.t.Fatalf("cancel %s: %d %s", number, res.status, res.body)
	}
}

// publishedKeys fetches and parses the well-known key list, as a partner would.
func (a *api) publishedKeys() []certkeys.PublicKey {
	a.t.Helper()
	res := a.get(certkeys.KeySetPath, "", "")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/json" {
		a.t.Fatalf("key list: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	keys, err := certkeys.ParseKeySet(res.body)
	if err != nil {
		a.t.Fatalf("key list %s: %v", res.body, err)
	}
	return keys
}

func certificatePath(number string) string { return "/v1/certificates/" + url.PathEscape(number) }

// verifyHeaders checks a certificate response's detached signature.
func verifyHeaders(t *testing.T, keys []certkeys.PublicKey, res response) {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(res.header.Get("Certificate-Signature"))
	if err != nil {
		t.Fatalf("Certificate-Signature %q: %v", res.header.Get("Certificate-Signature"), err)
	}
	if err := certkeys.Verify(keys, res.header.Get("Certificate-Key-Id"), res.body, sig); err != nil {
		t.Fatalf("signature over the response body: %v", err)
	}
}

func TestCertificateForThePartner(t *testing.T) {
	t.Parallel()
	a := setup(t)
	number, _ := a.register("LJB-CERT-1")
	keys := a.publishedKeys()
	var stored struct {
		JSON []byte `db:"json_document"`
		XML  []byte `db:"xml_document"`
	}
	if err := a.db.Get(&stored, `SELECT json_document, xml_document FROM certificates WHERE number = $1`, number); err != nil {
		t.Fatal(err)
	}

	t.Run("JSON", func(t *testing.T) {
		res := a.get(certificatePath(number), "lj-bank", "")
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Fatalf("%d %s: %s", res.status, res.header.Get("Content-Type"), res.body)
		}
		if !bytes.Equal(res.body, stored.JSON) {
			t.Errorf("body is not the certificate as issued:\n%s\n%s", res.body, stored.JSON)
		}
		if res.header.Get("Certificate-Status") != "valid" {
			t.Errorf("Certificate-Status %q", res.header.Get("Certificate-Status"))
		}
		verifyHeaders(t, keys, res)
	})
	t.Run("XML", func(t *testing.T) {
		res := a.get(certificatePath(number), "lj-bank", "application/xml")
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/xml") {
			t.Fatalf("%d %s: %s", res.status, res.header.Get("Content-Type"), res.body)
		}
		if !bytes.Equal(res.body, stored.XML) {
			t.Errorf("body is not the XML as issued")
		}
		verifyHeaders(t, keys, res)
	})
	t.Run("Envelope", func(t *testing.T) {
		for accept, media := range map[string]string{"": "application/json", "application/xml": "application/xml"} {
			res := a.get(certificatePath(number)+"?envelope=1", "lj-bank", accept)
			if res.status != http.StatusOK {
				t.Fatalf("%d %s", res.status, res.body)
			}
			var env certkeys.Envelope
			if err := json.Unmarshal(res.body, &env); err != nil {
				t.Fatal(err)
			}
			if env.MediaType != media || env.Number != number || env.Format != certkeys.EnvelopeFormat {
				t.Errorf("envelope %+v", env)
			}
			if err := env.Verify(keys); err != nil {
				t.Errorf("envelope (%s): %v", media, err)
			}
		}
	})
	t.Run("FullWidthBrackets", func(t *testing.T) {
		fw := strings.NewReplacer("(", "（", ")", "）").Replace(number)
		if res := a.get(certificatePath(fw), "lj-bank", ""); res.status != http.StatusOK {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
	t.Run("ErrOtherPartner", func(t *testing.T) {
		res := a.get(certificatePath(number), "hc-bank", "")
		if res.status != http.StatusNotFound || res.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("another partner: %d %s", res.status, res.body)
		}
		if bytes.Contains(res.body, []byte(owner.Name)) || res.header.Get("Certificate-Signature") != "" {
			t.Errorf("404 leaks the certificate: %s", res.body)
		}
	})
	t.Run("ErrUnauthenticated", func(t *testing.T) {
		if res := a.get(certificatePath(number), "", ""); res.status != http.StatusUnauthorized {
			t.Errorf("no credentials: %d", res.status)
		}
	})
}

// personal is what no public check may say: the owner's and the bank's
// identities.
func personal(t *testing.T, body []byte) {
	t.Helper()
	for _, s := range []string{owner.Name, owner.IDNumber, pii.MaskID(owner.IDNumber), bankA.Name, bankA.CreditCode} {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("public check discloses %q:\n%s", s, body)
		}
	}
}

func TestOnlineCheck(t *testing.T) {
	t.Parallel()
	a := setup(t)
	number, code := a.register("LJB-VERIFY-1")
	q := func(n, c string) string { return "/verify?" + url.Values{"number": {n}, "code": {c}}.Encode() }
	wrong := strings.Map(func(r rune) rune {
		if r == 'Z' {
			return 'Y'
		}
		return 'Z'
	}, code)

	check := func(path string) map[string]any {
		t.Helper()
		res := a.get(path, "", "")
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", path, res.status, res.body)
		}
		if res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", res.header.Get("Cache-Control"))
		}
		personal(t, res.body)
		return res.json(t)
	}
	got := check(q(number, code))
	want := map[string]any{"status": "valid", "number": number, "issuedAt": "2026-11-26T10:00:00+08:00", "authority": "齐齐哈尔市不动产登记中心"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("valid: %v, want %v", got, want)
	}
	if got := check(q(number, strings.ToLower(code))); got["status"] != "valid" {
		t.Errorf("lower-case code: %v", got)
	}
	for name, path := range map[string]string{
		"WrongCode":     q(number, wrong),
		"UnknownNumber": q("黑(2026)齐齐哈尔市不动产证明第0999999号", code),
	} {
		got := check(path)
		if got["status"] != "unknown" || got["issuedAt"] != nil {
			t.Errorf("%s: %v, want unknown and nothing else", name, got)
		}
	}
	// A wrong code and an unknown number get answers of the same shape.
	a1, a2 := check(q(number, wrong)), check(q("黑(2026)齐齐哈尔市不动产证明第0999999号", wrong))
	delete(a1, "number")
	delete(a2, "number")
	if fmt.Sprint(a1) != fmt.Sprint(a2) {
		t.Errorf("wrong code %v and unknown number %v differ", a1, a2)
	}
	if res := a.get("/verify?number=x", "", ""); res.status != http.StatusBadRequest {
		t.Errorf("missing code: %d %s", res.status, res.body)
	}

	// The page for people, by content negotiation and at /verify/page.
	for _, r := range []struct{ path, accept, want string }{
		{q(number, code), "text/html,application/xhtml+xml,*/*;q=0.8", "核验通过"},
		{"/verify/page?" + url.Values{"number": {number}, "code": {code}}.Encode(), "", "核验通过"},
		{"/verify/page?" + url.Values{"number": {number}, "code": {wrong}}.Encode(), "", "未能核验"},
		{"/verify/page", "", "<form"},
	} {
		res := a.get(r.path, "", r.accept)
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", r.path, res.status, res.header.Get("Content-Type"))
		}
		if !bytes.Contains(res.body, []byte(r.want)) {
			t.Errorf("%s: page lacks %q", r.path, r.want)
		}
		personal(t, res.body)
	}

	// Cancelling the mortgage cancels the certificate.
	a.cancel("LJB-VERIFY-1-X", number)
	got = check(q(number, code))
	if got["status"] != "cancelled" || got["cancelledAt"] != "2026-11-26T10:00:00+08:00" {
		t.Errorf("after cancellation: %v", got)
	}
	res := a.get("/verify/page?"+url.Values{"number": {number}, "code": {code}}.Encode(), "", "")
	if !bytes.Contains(res.body, []byte("证明已注销")) {
		t.Errorf("cancelled page:\n%s", res.body)
	}
	personal(t, res.body)
	if res := a.get(certificatePath(number), "lj-bank", ""); res.header.Get("Certificate-Status") != "cancelled" {
		t.Errorf("Certificate-Status after cancellation %q", res.header.Get("Certificate-Status"))
	}
}

var qrPattern = regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`)

func TestPrintableCertificate(t *testing.T) {
	t.Parallel()
	a := setup(t)
	number, code := a.register("LJB-PRINT-1")
	path := "/certificates/" + url.PathEscape(number) + "/print?code=" + code
	res := a.get(path, "", "")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %s", res.status, res.header.Get("Content-Type"))
	}
	page := string(res.body)
	for _, want := range []string{
		"不动产登记证明", number, "抵押权", bankA.Name, owner.Name, pii.MaskID(owner.IDNumber), "龙沙区卜奎大街1号",
		"一般抵押", "人民币 800000.00 元", "2026-11-26 至 2056-11-25", "第 1 位", "齐齐哈尔市不动产登记中心", "自动登簿",
		"2026年11月26日 10:00", code, "@media print",
		publicURL + "/verify/page?" + strings.ReplaceAll(url.Values{"code": {code}, "number": {number}}.Encode(), "&", "&amp;"),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("print view lacks %q", want)
		}
	}
	if strings.Contains(page, owner.IDNumber) {
		t.Error("print view shows a person's whole ID number")
	}
	m := qrPattern.FindStringSubmatch(page)
	if m == nil {
		i := strings.Index(page, "<img")
		t.Fatalf("no QR code image: %.200s", page[max(i, 0):])
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1])) // the attribute is HTML-escaped
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(raw)); err != nil || img.Bounds().Dx() < 200 {
		t.Errorf("QR code is not a usable PNG: %v", err)
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}

	// A wrong code shows nothing.
	res = a.get("/certificates/"+url.PathEscape(number)+"/print?code=ZZZZZZZZZZ", "", "")
	if res.status != http.StatusNotFound {
		t.Errorf("wrong code: %d", res.status)
	}
	personal(t, res.body)

	a.cancel("LJB-PRINT-1-X", number)
	if res := a.get(path, "", ""); !bytes.Contains(res.body, []byte("已注销")) {
		t.Error("print view of a cancelled certificate does not say so")
	}
}

func TestKeyRotationKeepsOldCertificatesVerifiable(t *testing.T) {
	t.Parallel()
	a := setup(t)
	before, _ := a.register("LJB-ROT-1")
	if _, err := certkeys.Rotate(t.Context(), a.db, a.sealer); err != nil {
		t.Fatal(err)
	}
	if err := a.signer.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	after, _ := a.register("LJB-ROT-2")
	keys := a.publishedKeys()
	if len(keys) != 2 {
		t.Fatalf("%d published keys, want 2", len(keys))
	}
	old := a.get(certificatePath(before), "lj-bank", "")
	fresh := a.get(certificatePath(after), "lj-bank", "")
	if old.header.Get("Certificate-Key-Id") == fresh.header.Get("Certificate-Key-Id") {
		t.Errorf("both certificates under key %s", old.header.Get("Certificate-Key-Id"))
	}
	if fresh.header.Get("Certificate-Key-Id") != a.signer.KeyID() {
		t.Errorf("new certificate under %s, active key %s", fresh.header.Get("Certificate-Key-Id"), a.signer.KeyID())
	}
	verifyHeaders(t, keys, old)
	verifyHeaders(t, keys, fresh)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(a.get(certkeys.KeySetPath, "", "").body, &set); err != nil {
		t.Fatal(err)
	}
	if set.Keys[0]["retiredAt"] == nil || set.Keys[1]["retiredAt"] != nil || set.Keys[0]["algorithm"] != "Ed25519" {
		t.Errorf("published keys %v", set.Keys)
	}
}
