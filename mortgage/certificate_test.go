package mortgage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mortgaged/internal/certkeys"
	"mortgaged/mortgage"
)

var update = flag.Bool("update", false, "rewrite the golden certificates in testdata and the worked example in docs/examples")

// certRow is a certificates row as the tests read it.
type certRow struct {
	Number        string     `db:"number"`
	BundleID      string     `db:"bundle_id"`
	MortgageID    int64      `db:"mortgage_id"`
	PartnerID     string     `db:"partner_id"`
	Code          string     `db:"verification_code"`
	Status        string     `db:"status"`
	IssuedAt      time.Time  `db:"issued_at"`
	CancelledAt   *time.Time `db:"cancelled_at"`
	KeyID         string     `db:"key_id"`
	JSON          []byte     `db:"json_document"`
	JSONSignature []byte     `db:"json_signature"`
	XML           []byte     `db:"xml_document"`
	XMLSignature  []byte     `db:"xml_signature"`
}

func (e *env) certificate(number string) certRow {
	e.t.Helper()
	var r certRow
	if err := e.db.Get(&r, `SELECT number, bundle_id, mortgage_id, partner_id, verification_code, status, issued_at,
		cancelled_at, key_id, json_document, json_signature, xml_document, xml_signature FROM certificates WHERE number = $1`, number); err != nil {
		e.t.Fatalf("certificate %s: %v", number, err)
	}
	return r
}

func (e *env) publishedKeys() []certkeys.PublicKey {
	e.t.Helper()
	keys, err := certkeys.PublicKeys(context.Background(), e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	return keys
}

var codePattern = regexp.MustCompile(`^[2-9A-HJ-NP-Z]{10}$`)

func TestRegistrationIssuesOneCertificate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.decide(e.general(e.soleUnit(zhang)))
	number := d.Registration.CertificateNumber
	if n := e.count(`SELECT count(*) FROM certificates`); n != 1 {
		t.Fatalf("%d certificates after one registration, want 1", n)
	}
	c := e.certificate(number)
	var mortgageID int64
	if err := e.db.Get(&mortgageID, `SELECT id FROM mortgages WHERE certificate_number = $1`, number); err != nil {
		t.Fatal(err)
	}
	if c.BundleID != d.BundleID || c.MortgageID != mortgageID || c.PartnerID != "lj-bank" || c.Status != mortgage.CertificateValid ||
		!c.IssuedAt.Equal(testNow) || c.CancelledAt != nil {
		t.Errorf("certificate row %+v", c)
	}
	if !codePattern.MatchString(c.Code) {
		t.Errorf("verification code %q", c.Code)
	}
	// The partner's registration event carries the certificate as issued.
	var payload []byte
	if err := e.db.Get(&payload, `SELECT payload FROM events WHERE subject = $1 AND type = 'bundle.registered'`, d.BundleID); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Certificate *mortgage.IssuedCertificate `json:"certificate"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil || ev.Certificate == nil {
		t.Fatalf("event payload %s: %v", payload, err)
	}
	if ev.Certificate.Number != number || ev.Certificate.VerificationCode != c.Code || ev.Certificate.KeyID != c.KeyID || ev.Certificate.Status != "valid" {
		t.Errorf("event certificate %+v, row %+v", ev.Certificate, c)
	}

	t.Run("RejectedIssuesNone", func(t *testing.T) {
		u := e.soleUnit(zhang)
		e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from) VALUES ($1, '法院', '(2026)黑0202执9号', '2026-01-01')`, u.number)
		d := e.decide(e.general(u))
		if d.Status != mortgage.StatusRejected {
			t.Fatalf("seized unit: %s", d.Status)
		}
		if n := e.count(`SELECT count(*) FROM certificates WHERE bundle_id = $1`, d.BundleID); n != 0 {
			t.Errorf("%d certificates for a rejected bundle", n)
		}
	})
	t.Run("InvalidIssuesNone", func(t *testing.T) {
		a := e.general(e.soleUnit(zhang))
		a.Mortgage.PrincipalFen = 0
		var ve *mortgage.ValidationError
		if _, err := e.submitAs(submitter, a); !errors.As(err, &ve) {
			t.Fatalf("err %v, want a validation error", err)
		}
	})
	if n := e.count(`SELECT count(*) FROM certificates`); n != 1 {
		t.Errorf("%d certificates in all, want the one registration's", n)
	}
}

// The certificate is written in the registration's transaction: invisible
// before commit, gone with a rollback.
func TestCertificateCommitsWithTheRegistration(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.general(e.soleUnit(zhang))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := -1
	e.svc.BeforeCommit = func(context.Context) {
		seen = e.count(`SELECT count(*) FROM certificates`) // another connection
		cancel()                                            // the commit now fails: rollback
	}
	if _, err := e.svc.Submit(ctx, submitter, a, render); err == nil {
		t.Fatal("submit with a cancelled context committed")
	}
	if seen != 0 {
		t.Errorf("another connection saw %d certificates before commit", seen)
	}
	for _, table := range []string{"certificates", "mortgages", "bundles", "events"} {
		if n := e.count(`SELECT count(*) FROM ` + table); n != 0 {
			t.Errorf("%d rows in %s after the rollback", n, table)
		}
	}
	e.svc.BeforeCommit = nil
	d := e.decide(a)
	if n := e.count(`SELECT count(*) FROM certificates WHERE bundle_id = $1`, d.BundleID); n != 1 {
		t.Errorf("%d certificates after the retry, want 1", n)
	}
}

// flipped yields doc with one bit changed at each position in turn.
func flipped(doc []byte, yield func(pos int, bad []byte)) {
	for i := range doc {
		bad := bytes.Clone(doc)
		bad[i] ^= 0x20
		yield(i, bad)
	}
}

func TestCertificateSignatureVerifies(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.decide(e.general(e.soleUnit(zhang)))
	c := e.certificate(d.Registration.CertificateNumber)
	keys := e.publishedKeys()
	for _, r := range []struct {
		name     string
		doc, sig []byte
	}{{"JSON", c.JSON, c.JSONSignature}, {"XML", c.XML, c.XMLSignature}} {
		t.Run(r.name, func(t *testing.T) {
			if err := certkeys.Verify(keys, c.KeyID, r.doc, r.sig); err != nil {
				t.Fatalf("stored signature over stored bytes: %v", err)
			}
			flipped(r.doc, func(pos int, bad []byte) {
				if err := certkeys.Verify(keys, c.KeyID, bad, r.sig); !errors.Is(err, certkeys.ErrBadSignature) {
					t.Fatalf("byte %d flipped: %v, want ErrBadSignature", pos, err)
				}
			})
			flipped(r.sig, func(pos int, bad []byte) {
				if err := certkeys.Verify(keys, c.KeyID, r.doc, bad); !errors.Is(err, certkeys.ErrBadSignature) {
					t.Fatalf("signature byte %d flipped: %v, want ErrBadSignature", pos, err)
				}
			})
		})
	}
}

func TestCertificateContent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	a := e.general(u)
	a.Remarks = "抵押合同编号 LJB-2026-001"
	d := e.decide(a)
	c := e.certificate(d.Registration.CertificateNumber)
	content, err := mortgage.ParseCertificate(c.JSON)
	if err != nil {
		t.Fatal(err)
	}
	want := mortgage.Certificate{
		Format: mortgage.CertificateFormat, Title: "不动产登记证明", Number: d.Registration.CertificateNumber, Matter: "抵押权",
		RegistrationType: string(mortgage.FirstGeneral),
		RightHolder:      mortgage.CertificateParty{Name: bank.Name, IDType: "7", IDNumber: bank.IDNumber},
		Obligors:         []mortgage.CertificateParty{{Name: zhang.Name, IDType: "1", IDNumber: zhang.IDNumber}},
		Units:            []mortgage.CertificateUnit{{UnitNumber: u.number, Location: "龙沙区卜奎大街1号", TitleCertificateNumber: u.title, Rank: 1}},
		Mortgage: mortgage.CertificateMortgage{Kind: "general", KindLabel: "一般抵押", CollateralKind: "2", CollateralKindLabel: "土地和房屋",
			PrincipalAmount: "500000.00", DebtStart: "2026-11-26", DebtEnd: "2046-11-25",
			Scope: "主债权及利息、违约金、损害赔偿金和实现债权的费用", TransferRestricted: true,
			Debtors: []mortgage.CertificateParty{{Name: zhang.Name, IDType: "1", IDNumber: zhang.IDNumber}}},
		Remarks:      "抵押合同编号 LJB-2026-001",
		RegisteredAt: "2026-11-26T10:00:00+08:00", RecordingOfficer: "自动登簿", Authority: "齐齐哈尔市不动产登记中心",
		VerificationCode: c.Code,
	}
	got, _ := json.Marshal(content)
	exp, _ := json.Marshal(want)
	if !bytes.Equal(got, exp) {
		t.Errorf("certificate\n got %s\nwant %s", got, exp)
	}
	// The stored bytes are the canonical rendering of that content.
	if canon, _ := content.CanonicalJSON(); !bytes.Equal(canon, c.JSON) {
		t.Errorf("stored JSON is not canonical:\n%s\n%s", c.JSON, canon)
	}
	if x, _ := content.XML(); !bytes.Equal(x, c.XML) {
		t.Errorf("stored XML is not the rendering of the stored JSON:\n%s\n%s", c.XML, x)
	}
	// A maximum-amount mortgage states the maximum, not a principal.
	m := e.general(e.soleUnit(zhang))
	m.Type = mortgage.FirstMaximum
	m.Mortgage.MaximumFen, m.Mortgage.PrincipalFen = 1_234_567_89, 0
	m.Materials = []mortgage.Material{doc("application_form"), doc("maximum_mortgage_contract")}
	dm := e.decide(m)
	mc, err := mortgage.ParseCertificate(e.certificate(dm.Registration.CertificateNumber).JSON)
	if err != nil {
		t.Fatal(err)
	}
	if mc.Mortgage.Kind != "maximum" || mc.Mortgage.KindLabel != "最高额抵押" || mc.Mortgage.MaximumAmount != "1234567.89" || mc.Mortgage.PrincipalAmount != "" {
		t.Errorf("maximum mortgage particulars %+v", mc.Mortgage)
	}
}

func TestCertificateAfterKeyRotation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := e.certificate(e.decide(e.general(e.soleUnit(zhang))).Registration.CertificateNumber)
	ring := e.svc.Signer.(*certkeys.Keyring)
	if _, err := certkeys.Rotate(t.Context(), e.db, testSealer(t)); err != nil {
		t.Fatal(err)
	}
	if err := ring.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := e.certificate(e.decide(e.general(e.soleUnit(zhang))).Registration.CertificateNumber)
	if after.KeyID == before.KeyID {
		t.Fatalf("both certificates signed with %s after rotation", after.KeyID)
	}
	keys := e.publishedKeys()
	if len(keys) != 2 {
		t.Fatalf("%d published keys, want the retired and the active one", len(keys))
	}
	for _, c := range []certRow{before, after} {
		if err := certkeys.Verify(keys, c.KeyID, c.JSON, c.JSONSignature); err != nil {
			t.Errorf("%s (key %s) JSON: %v", c.Number, c.KeyID, err)
		}
		if err := certkeys.Verify(keys, c.KeyID, c.XML, c.XMLSignature); err != nil {
			t.Errorf("%s (key %s) XML: %v", c.Number, c.KeyID, err)
		}
	}
	for _, k := range keys {
		if (k.ID == before.KeyID) != (k.RetiredAt != nil) {
			t.Errorf("key %s retired at %v", k.ID, k.RetiredAt)
		}
	}
}

func TestCancellationCancelsCertificate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.decide(e.general(e.soleUnit(zhang)))
	number := d.Registration.CertificateNumber
	code := e.certificate(number).Code
	e.now = testNow.Add(3 * time.Hour)
	cd := e.decide(e.cancellation(number))
	if cd.Status != mortgage.StatusRegistered {
		t.Fatalf("cancellation %s %v", cd.Status, cd.Reasons)
	}
	c := e.certificate(number)
	if c.Status != mortgage.CertificateCancelled || c.CancelledAt == nil || !c.CancelledAt.Equal(e.now) {
		t.Errorf("after cancellation: status %s cancelled at %v, want cancelled at %v", c.Status, c.CancelledAt, e.now)
	}
	var payload []byte
	if err := e.db.Get(&payload, `SELECT payload FROM events WHERE type = 'certificate.cancelled' AND subject = $1`, number); err != nil {
		t.Fatalf("certificate.cancelled event: %v", err)
	}
	var ev struct {
		Certificate *mortgage.IssuedCertificate `json:"certificate"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil || ev.Certificate == nil || ev.Certificate.Status != "cancelled" ||
		ev.Certificate.CancelledAt == nil || !ev.Certificate.CancelledAt.Equal(e.now) {
		t.Errorf("event payload %s (%v)", payload, err)
	}
	check, err := e.svc.CheckCertificate(t.Context(), number, code)
	if err != nil {
		t.Fatal(err)
	}
	if check.Status != mortgage.CertificateCancelled || check.CancelledAt == nil || !check.IssuedAt.Equal(testNow) {
		t.Errorf("check after cancellation %+v", check)
	}
	// The signature still verifies: the document does not change, its status does.
	if err := certkeys.Verify(e.publishedKeys(), c.KeyID, c.JSON, c.JSONSignature); err != nil {
		t.Errorf("cancelled certificate's signature: %v", err)
	}
	// A mortgage imported without an electronic certificate cancels without a certificate event.
	u := e.soleUnit(zhang)
	e.exec(`WITH m AS (INSERT INTO mortgages (certificate_number, kind, collateral_kind, principal_fen, debt_start, debt_end, scope,
		transfer_restricted, mortgagors, debtors, mortgagee_name, mortgagee_id_number, registered_at, recording_officer)
		VALUES ('黑(2019)齐齐哈尔市不动产证明第0008812号', 'general', '2', 100, '2019-01-01', '2039-01-01', '主债权', false,
		'[]', '[]', $2, $3, '2019-01-02T10:00:00+08:00', '王某') RETURNING id)
		INSERT INTO mortgage_units SELECT id, $1, 1, true FROM m`, u.number, bank.Name, bank.IDNumber)
	if d := e.decide(e.cancellation("黑(2019)齐齐哈尔市不动产证明第0008812号")); d.Status != mortgage.StatusRegistered {
		t.Fatalf("cancelling the imported mortgage: %s %v", d.Status, d.Reasons)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE type = 'certificate.cancelled'`); n != 1 {
		t.Errorf("%d certificate.cancelled events, want only the electronic certificate's", n)
	}
}

func TestCheckCertificate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.decide(e.general(e.soleUnit(zhang)))
	number := d.Registration.CertificateNumber
	code := e.certificate(number).Code
	fullWidth := strings.NewReplacer("(", "（", ")", "）").Replace(number)
	wrong := []byte(code)
	wrong[0] = map[bool]byte{true: 'B', false: 'A'}[wrong[0] == 'A']
	for _, c := range []struct {
		name, number, code, status string
	}{
		{"OK", number, code, "valid"},
		{"OKTypedLoosely", fullWidth, strings.ToLower(code[:5]) + "-" + code[5:], "valid"},
		{"WrongCode", number, string(wrong), "unknown"},
		{"EmptyCode", number, "", "unknown"},
		{"UnknownNumber", "黑(2026)齐齐哈尔市不动产证明第0999999号", code, "unknown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.svc.CheckCertificate(t.Context(), c.number, c.code)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != c.status || got.Authority != "齐齐哈尔市不动产登记中心" {
				t.Fatalf("%+v, want %s", got, c.status)
			}
			if c.status == "unknown" && (got.Number != "" || !got.IssuedAt.IsZero()) {
				t.Errorf("an unknown answer says %+v", got)
			}
		})
	}
	if _, err := e.svc.Certificate(t.Context(), "hc-bank", number); !errors.Is(err, mortgage.ErrNotFound) {
		t.Errorf("another partner's certificate: %v, want ErrNotFound", err)
	}
	if c, err := e.svc.Certificate(t.Context(), "lj-bank", number); err != nil || c.Number != number {
		t.Errorf("own certificate: %+v %v", c, err)
	}
}

func TestVerificationCodes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	chars := map[rune]bool{}
	for range 5000 {
		c := mortgage.NewVerificationCode()
		if !codePattern.MatchString(c) {
			t.Fatalf("code %q", c)
		}
		if seen[c] {
			t.Fatalf("code %q twice in 5000", c)
		}
		seen[c] = true
		for _, r := range c {
			chars[r] = true
		}
	}
	if len(chars) != 32 {
		t.Errorf("%d distinct characters used, want all 32", len(chars))
	}
	if got := mortgage.NormaliseVerificationCode(" h7k3m-9xpq2 "); got != "H7K3M9XPQ2" {
		t.Errorf("normalised %q", got)
	}
}

// goldenCertificates registers fixed bundles with a fixed clock and
// verification code and returns the certificates issued.
func goldenCertificates(t *testing.T) map[string]certRow {
	e := setup(t)
	e.svc.NewCode = func() string { return "H7K3M9XPQ2" }
	home := e.addUnit(unit{number: "230202001001GB00023F00010502", title: "黑(2021)齐齐哈尔市不动产权第0012345号",
		form: "joint", owners: []owner{{party: zhang}, {party: li}}})
	e.exec(`UPDATE units SET location = '龙沙区卜奎大街 23 号 1 栋 5 单元 502 室' WHERE unit_number = $1`, home.number)
	g := e.general(home)
	out := map[string]certRow{}
	out["general"] = e.certificate(e.decide(g).Registration.CertificateNumber)

	shop := e.addUnit(unit{number: "230203002004GB00108F00020101", title: "黑(2023)齐齐哈尔市不动产权第0056789号",
		use: "commercial", owners: []owner{{party: firm}}})
	store := e.addUnit(unit{number: "230203002004GB00108F00020102", title: "黑(2023)齐齐哈尔市不动产权第0056790号",
		use: "commercial", owners: []owner{{party: firm}}})
	e.exec(`UPDATE units SET location = '建华区新明大街 108 号商服 ' || right(rtrim(unit_number), 3) WHERE unit_number IN ($1, $2)`, shop.number, store.number)
	m := e.general(shop)
	m.Type = mortgage.FirstMaximum
	m.Units = append(m.Units, mortgage.UnitRef{UnitNumber: store.number, TitleCertificateNumber: store.title})
	no := false
	m.Mortgage.MaximumFen, m.Mortgage.PrincipalFen, m.Mortgage.TransferRestricted = 3_000_000_00, 0, &no
	m.Mortgage.Scope = "主债权及利息、违约金、损害赔偿金、保管担保财产和实现担保物权的费用"
	m.Debtors = []mortgage.Party{wang}
	m.Remarks = "最高额抵押合同编号 LJB-ZGE-2026-0007"
	m.Materials = []mortgage.Material{doc("application_form"), doc("maximum_mortgage_contract")}
	out["maximum"] = e.certificate(e.decide(m).Registration.CertificateNumber)
	return out
}

// TestCertificateGolden keeps the outgoing certificate renderings in
// testdata (regenerate with -update) and checks the XML against the
// published XSD.
func TestCertificateGolden(t *testing.T) {
	t.Parallel()
	for name, c := range goldenCertificates(t) {
		for ext, got := range map[string][]byte{"json": c.JSON, "xml": c.XML} {
			path := filepath.Join("testdata", "certificate-"+name+".golden."+ext)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the issued certificate (go test -update rewrites it):\n got %s\nwant %s", path, got, want)
			}
		}
		validateXSD(t, filepath.Join("testdata", "certificate-"+name+".golden.xml"))
	}
}

// validateXSD runs xmllint against docs/formats/certificate-v1.xsd. In CI
// xmllint must be there (.ci/run installs it); elsewhere its absence skips.
func validateXSD(t *testing.T, file string) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("xmllint not installed (apt-get install libxml2-utils); CI runs this check")
		}
		t.Fatal("xmllint is required in CI: apt-get install libxml2-utils")
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", filepath.Join("..", "docs", "formats", "certificate-v1.xsd"), file).CombinedOutput()
	if err != nil {
		t.Errorf("%s does not validate against certificate-v1.xsd: %v\n%s", file, err, out)
	}
}

func TestXSDRejectsBrokenCertificates(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(filepath.Join("testdata", "certificate-general.golden.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("xmllint"); err != nil && os.Getenv("CI") == "" {
		t.Skip("xmllint not installed")
	}
	for name, edit := range map[string]func(string) string{
		"BadCode":     func(s string) string { return strings.Replace(s, "H7K3M9XPQ2", "H7K3M9XPQ0", 1) },
		"BadAmount":   func(s string) string { return strings.Replace(s, "500000.00", "500000.0", 1) },
		"MissingRank": func(s string) string { return regexp.MustCompile(`\s*<rank>1</rank>`).ReplaceAllString(s, "") },
		"OtherVersion": func(s string) string {
			return strings.Replace(s, "mortgaged-certificate/v1", "mortgaged-certificate/v2", 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			bad := edit(string(good))
			if bad == string(good) {
				t.Fatal("edit changed nothing")
			}
			f := filepath.Join(t.TempDir(), "bad.xml")
			if err := os.WriteFile(f, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", filepath.Join("..", "docs", "formats", "certificate-v1.xsd"), f).CombinedOutput()
			if err == nil {
				t.Errorf("xmllint accepted a broken certificate:\n%s", out)
			}
		})
	}
}
