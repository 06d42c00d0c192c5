package batches_test

import (
	"bytes"
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
	"mortgaged/mortgage/batches"
)

// shanghai is business time; testNow a Thursday morning.
var (
	shanghai = time.FixedZone("CST", 8*3600)
	testNow  = time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai)
)

var (
	residentID = mortgage.MustResidentID
	creditCode = mortgage.MustCreditCode
)

var (
	zhang = mortgage.Party{Name: "张伟", IDType: mortgage.IDResident, IDNumber: residentID("23020219800101123")}
	li    = mortgage.Party{Name: "李娜", IDType: mortgage.IDResident, IDNumber: residentID("23020319820202234")}
	wang  = mortgage.Party{Name: "王芳", IDType: mortgage.IDResident, IDNumber: residentID("23020419850303345")}
)

type owner struct{ party mortgage.Party }

type unit struct {
	number string
	title  string
	owners []owner
}

// env is one test's database, service and batch store.
type env struct {
	t     *testing.T
	db    *sqlx.DB
	svc   *mortgage.Service
	store *batches.Store
	units int // units made so far, for fresh numbers
	refs  int // references made so far
}

func setup(t *testing.T) *env {
	t.Helper()
	d := pgtest.Open(t)
	e := &env{t: t, db: d}
	e.svc = mortgage.NewService(d, mortgage.Config{
		Province: "黑", City: "齐齐哈尔市", Authority: "齐齐哈尔市不动产登记中心",
		RecordingOfficer: "自动登簿", ObjectionPolicy: mortgage.ObjectionRefuse, Location: shanghai,
	})
	e.svc.Now = func() time.Time { return testNow }
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if e.svc.Signer, err = certkeys.Open(t.Context(), d, sealer); err != nil {
		t.Fatal(err)
	}
	e.store = &batches.Store{Service: e.svc}
	return e
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Exec(q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// soleUnit puts a fresh unit owned by p alone in the register.
func (e *env) soleUnit(p mortgage.Party) unit {
	e.t.Helper()
	e.units++
	u := unit{number: fmt.Sprintf("230202001001GB%05dF%08d", e.units, 10001),
		title: fmt.Sprintf("黑(2020)齐齐哈尔市不动产权第%07d号", e.units), owners: []owner{{p}}}
	e.exec(`INSERT INTO units (unit_number, location, use, area_m2, title_certificate_number, ownership_form, mortgageable)
		VALUES ($1, '龙沙区卜奎大街1号', 'residential', 89.5, $2, 'sole', true)`, u.number, u.title)
	e.exec(`INSERT INTO owners (unit_number, seq, name, id_type, id_number) VALUES ($1, 1, $2, $3, $4)`,
		u.number, p.Name, p.IDType, p.IDNumber)
	return u
}

var pdf = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func doc(kind string) mortgage.Material {
	sum := sha256.Sum256(pdf)
	return mortgage.Material{Kind: kind, FileName: kind + ".pdf", MediaType: "application/pdf", SHA256: hex.EncodeToString(sum[:]), Content: pdf}
}

// general is a clean general-mortgage application for u by its owners,
// with mortgagee as the mortgagee.
func (e *env) general(u unit, mortgagee mortgage.Party) *mortgage.Application {
	e.refs++
	yes := true
	var mortgagors []mortgage.Party
	for _, o := range u.owners {
		mortgagors = append(mortgagors, o.party)
	}
	return &mortgage.Application{
		Reference:  fmt.Sprintf("TEST-%06d", e.refs),
		Type:       mortgage.FirstGeneral,
		Units:      []mortgage.UnitRef{{UnitNumber: u.number, TitleCertificateNumber: u.title}},
		Mortgagors: mortgagors,
		Mortgagee:  mortgagee,
		Mortgage: &mortgage.Terms{
			CollateralKind: "2", PrincipalFen: 500_000_00,
			DebtStart: mortgage.NewDate(2026, 11, 26), DebtEnd: mortgage.NewDate(2046, 11, 25),
			Scope: "主债权及利息、违约金、损害赔偿金和实现债权的费用", TransferRestricted: &yes,
		},
		Materials: []mortgage.Material{doc("application_form"), doc("loan_contract"), doc("mortgage_contract")},
	}
}

// render stands in for a partner format: it just records the status.
func render(d *mortgage.Decision) (mortgage.Answer, error) {
	return mortgage.Answer{Status: http.StatusCreated, Body: []byte(d.BundleID + " " + string(d.Status))}, nil
}

func codes(is mortgage.Issues) []mortgage.Code {
	out := []mortgage.Code{}
	for _, i := range is {
		out = append(out, i.Code)
	}
	return out
}
