package mortgage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/mortgage"
)

// shanghai is business time.
var shanghai = time.FixedZone("CST", 8*3600)

// testNow is the fixed clock of these tests: a Thursday morning.
var testNow = time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai)

// residentID completes 17 digits with their GB 11643 check character.
var (
	residentID = mortgage.MustResidentID
	creditCode = mortgage.MustCreditCode
)

var (
	bankCode  = creditCode("91230200MA1BANK01")
	otherBank = creditCode("91230200MA1BANK02")
	zhang     = mortgage.Party{Name: "张伟", IDType: mortgage.IDResident, IDNumber: residentID("23020219800101123")}
	li        = mortgage.Party{Name: "李娜", IDType: mortgage.IDResident, IDNumber: residentID("23020319820202234")}
	wang      = mortgage.Party{Name: "王芳", IDType: mortgage.IDResident, IDNumber: residentID("23020419850303345")}
	firm      = mortgage.Party{Name: "齐齐哈尔鹤城商贸有限公司", IDType: mortgage.IDCreditCode, IDNumber: creditCode("91230202MA1FRM001")}
	bank      = mortgage.Party{Name: "龙江示范银行股份有限公司齐齐哈尔分行", IDType: mortgage.IDCreditCode, IDNumber: bankCode}
	hcBank    = mortgage.Party{Name: "鹤城示范银行股份有限公司", IDType: mortgage.IDCreditCode, IDNumber: otherBank}
	submitter = mortgage.Submitter{PartnerID: "lj-bank", CreditCode: bankCode}
)

type owner struct {
	party mortgage.Party
	share [2]int // numerator, denominator; zero unless in shares
}

type unit struct {
	number     string
	use        string
	form       string
	owners     []owner
	title      string
	noMortgage bool
}

// env is one test's database and service.
type env struct {
	t   *testing.T
	db  *sqlx.DB
	svc *mortgage.Service
	now time.Time

	units, refs int // how many units and references this test has made up
}

func setup(t *testing.T) *env {
	t.Helper()
	d := pgtest.Open(t)
	e := &env{t: t, db: d, now: testNow}
	e.svc = mortgage.NewService(d, mortgage.Config{
		Province: "黑", City: "齐齐哈尔市", Authority: "齐齐哈尔市不动产登记中心",
		RecordingOfficer: "自动登簿", ObjectionPolicy: mortgage.ObjectionRefuse, Location: shanghai,
	})
	e.svc.Now = func() time.Time { return e.now }
	e.svc.Signer = keyring(t, d)
	for _, id := range []struct{ id, name, code string }{{"lj-bank", bank.Name, bankCode}, {"hc-bank", hcBank.Name, otherBank}} {
		e.exec(`INSERT INTO partners (id, kind, name, credit_code) VALUES ($1, 'bank', $2, $3)`, id.id, id.name, id.code)
	}
	return e
}

// testSealer seals with the tests' fixed master key.
func testSealer(t *testing.T) *seal.Sealer {
	t.Helper()
	s, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keyring is the test database's signing keyring.
func keyring(t *testing.T, d *sqlx.DB) *certkeys.Keyring {
	t.Helper()
	k, err := certkeys.Open(t.Context(), d, testSealer(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Exec(q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

// addUnit puts a unit in the register; number "" makes a fresh one.
func (e *env) addUnit(u unit) unit {
	e.t.Helper()
	e.units++
	if u.number == "" {
		u.number = fmt.Sprintf("230202001001GB%05dF%08d", e.units, 10001)
	}
	if u.use == "" {
		u.use = "residential"
	}
	if u.form == "" {
		u.form = "sole"
	}
	if u.title == "" {
		u.title = fmt.Sprintf("黑(2020)齐齐哈尔市不动产权第%07d号", e.units)
	}
	e.exec(`INSERT INTO units (unit_number, location, use, area_m2, title_certificate_number, ownership_form, mortgageable)
		VALUES ($1, '龙沙区卜奎大街1号', $2, 89.5, $3, $4, $5)`, u.number, u.use, u.title, u.form, !u.noMortgage)
	for i, o := range u.owners {
		var num, den any
		if o.share[1] != 0 {
			num, den = o.share[0], o.share[1]
		}
		e.exec(`INSERT INTO owners (unit_number, seq, name, id_type, id_number, share_numerator, share_denominator)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.number, i+1, o.party.Name, o.party.IDType, o.party.IDNumber, num, den)
	}
	return u
}

func (e *env) soleUnit(p mortgage.Party) unit {
	return e.addUnit(unit{owners: []owner{{party: p}}})
}

var pdf = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func doc(kind string) mortgage.Material {
	sum := sha256.Sum256(pdf)
	return mortgage.Material{Kind: kind, FileName: kind + ".pdf", MediaType: "application/pdf", SHA256: hex.EncodeToString(sum[:]), Content: pdf}
}

// reference is this test's next made-up partner reference.
func (e *env) reference() string {
	e.refs++
	return fmt.Sprintf("LJB-TEST-%06d", e.refs)
}

// general is a clean general-mortgage application for u by its owners,
// under this test's next reference.
func (e *env) general(u unit, mortgagors ...mortgage.Party) *mortgage.Application {
	return newGeneral(e.reference(), u, mortgagors...)
}

// newGeneral is a clean general-mortgage application for u by its owners.
func newGeneral(reference string, u unit, mortgagors ...mortgage.Party) *mortgage.Application {
	yes := true
	if len(mortgagors) == 0 {
		for _, o := range u.owners {
			mortgagors = append(mortgagors, o.party)
		}
	}
	return &mortgage.Application{
		Reference:  reference,
		Type:       mortgage.FirstGeneral,
		Units:      []mortgage.UnitRef{{UnitNumber: u.number, TitleCertificateNumber: u.title}},
		Mortgagors: mortgagors,
		Mortgagee:  bank,
		Mortgage: &mortgage.Terms{
			CollateralKind: "2", PrincipalFen: 500_000_00,
			DebtStart: mortgage.NewDate(2026, 11, 26), DebtEnd: mortgage.NewDate(2046, 11, 25),
			Scope: "主债权及利息、违约金、损害赔偿金和实现债权的费用", TransferRestricted: &yes,
		},
		Materials: []mortgage.Material{doc("application_form"), doc("loan_contract"), doc("mortgage_contract")},
	}
}

// joint is a clean general-mortgage application securing one loan by two
// units (共同抵押); with no mortgagors given, they are both units' owners.
func (e *env) joint(u, v unit, mortgagors ...mortgage.Party) *mortgage.Application {
	a := e.general(u, mortgagors...)
	a.Units = append(a.Units, mortgage.UnitRef{UnitNumber: v.number, TitleCertificateNumber: v.title})
	if len(mortgagors) == 0 {
		for _, o := range v.owners {
			a.Mortgagors = append(a.Mortgagors, o.party)
		}
	}
	return a
}

// cancellation cancels the mortgage of certificate, under this test's next
// reference.
func (e *env) cancellation(certificate string) *mortgage.Application {
	return newCancellation(e.reference(), certificate)
}

func newCancellation(reference, certificate string) *mortgage.Application {
	return &mortgage.Application{
		Reference:    reference,
		Type:         mortgage.Cancellation,
		Mortgagee:    bank,
		Cancellation: &mortgage.CancellationTerms{CertificateNumber: certificate, Reason: "主债权已清偿"},
		Materials:    []mortgage.Material{doc("application_form"), doc("debt_extinguished_proof")},
	}
}

// render stands in for a partner format: it just records the status.
func render(d *mortgage.Decision) (mortgage.Answer, error) {
	return mortgage.Answer{Status: http.StatusCreated, Body: []byte(d.BundleID + " " + string(d.Status))}, nil
}

func (e *env) submitAs(sub mortgage.Submitter, a *mortgage.Application) (mortgage.Outcome, error) {
	return e.svc.Submit(context.Background(), sub, a, render)
}

// decide submits and expects a fresh decision.
func (e *env) decide(a *mortgage.Application) *mortgage.Decision {
	e.t.Helper()
	out, err := e.submitAs(submitter, a)
	if err != nil {
		e.t.Fatalf("submit %s: %v", a.Reference, err)
	}
	if out.Decision == nil {
		e.t.Fatalf("submit %s: replayed, want a fresh decision", a.Reference)
	}
	return out.Decision
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func codes(is mortgage.Issues) []mortgage.Code {
	out := []mortgage.Code{}
	for _, i := range is {
		out = append(out, i.Code)
	}
	return out
}
