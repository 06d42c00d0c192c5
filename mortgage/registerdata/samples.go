package registerdata

import (
	"bytes"
	"fmt"
	"strings"

	"mortgaged/mortgage"
)

// Names of the sample bundles.
const (
	SampleFirstGeneral   = "first-general-clean"   // registers: a general mortgage on a clean home
	SampleFirstMaximum   = "first-maximum-clean"   // registers: a maximum-amount mortgage on a clean unit
	SampleJointMissing   = "joint-missing-coowner" // rejected: one of two joint owners applies alone
	SampleSeized         = "seized"                // rejected: the unit is seized
	SampleCancellation   = "cancellation"          // registers: the demo bank cancels one of its mortgages
	SampleInvalidFaults5 = "invalid-five-faults"   // fails validation with exactly five faults
)

// SampleBundles builds applications the demo bank (d.Partners[0], lj-bank)
// would send against the demo register d, dated today, keyed by the names
// above. d must come from GenerateDemo; each sample uses its own units. The
// five faults of SampleInvalidFaults5 are: a resident ID with a wrong check
// digit, a malformed unit number, a debt period that ends before it starts,
// a missing loan contract and a principal amount of zero.
func SampleBundles(d Demo, today mortgage.Date) map[string]*mortgage.Application {
	bank := d.Partners[0]
	s := &sampler{demo: d, today: today, bank: bank, used: map[string]bool{}}
	out := map[string]*mortgage.Application{}
	yes, no := true, false

	home := s.clean(func(u DemoUnit) bool { return u.Use == "residential" && u.Owners[0].IDType == mortgage.IDResident })
	a := s.application(mortgage.FirstGeneral, home)
	a.Mortgage = &mortgage.Terms{CollateralKind: "2", PrincipalFen: 460_000_00, DebtStart: today,
		DebtEnd: s.date(20, 0, -1), Scope: standardScope, TransferRestricted: &no}
	a.Remarks = "个人住房按揭贷款"
	s.materials(a, "application_form", "loan_contract", "mortgage_contract", "authorisation")
	out[SampleFirstGeneral] = a

	shop := s.clean(func(u DemoUnit) bool {
		return (u.Use == "commercial" || u.Use == "office") && u.Owners[0].IDType == mortgage.IDCreditCode
	})
	if shop.UnitNumber == "" { // a small demo may have no company-owned shop among its clean units
		shop = s.clean(func(u DemoUnit) bool { return u.Use == "residential" })
	}
	a = s.application(mortgage.FirstMaximum, shop)
	a.Mortgage = &mortgage.Terms{CollateralKind: "2", MaximumFen: 2_000_000_00, DebtStart: today,
		DebtEnd: s.date(3, 0, -1), Scope: standardScope, TransferRestricted: &yes}
	a.Remarks = "流动资金循环贷款，债权确定期间三年"
	s.materials(a, "application_form", "maximum_mortgage_contract", "loan_contract", "authorisation")
	out[SampleFirstMaximum] = a

	joint := d.Joint[0]
	a = s.application(mortgage.FirstGeneral, joint)
	a.Mortgagors = a.Mortgagors[:1] // the other joint owner does not apply
	a.Debtors = a.Debtors[:1]
	a.Mortgage = &mortgage.Terms{CollateralKind: "2", PrincipalFen: 300_000_00, DebtStart: today,
		DebtEnd: s.date(15, 0, -1), Scope: standardScope, TransferRestricted: &no}
	s.materials(a, "application_form", "loan_contract", "mortgage_contract", "authorisation")
	out[SampleJointMissing] = a

	seized := d.Seized[0]
	a = s.application(mortgage.FirstGeneral, seized)
	a.Mortgage = &mortgage.Terms{CollateralKind: "2", PrincipalFen: 250_000_00, DebtStart: today,
		DebtEnd: s.date(10, 0, -1), Scope: standardScope, TransferRestricted: &no}
	s.materials(a, "application_form", "loan_contract", "mortgage_contract", "authorisation")
	out[SampleSeized] = a

	m := s.bankMortgage()
	a = &mortgage.Application{Reference: s.reference(), Type: mortgage.Cancellation, Mortgagee: s.mortgagee(), Agent: s.agent(),
		Cancellation: &mortgage.CancellationTerms{CertificateNumber: m.CertificateNumber, Reason: "主债权已全部清偿"}}
	for _, n := range m.Units {
		a.Units = append(a.Units, s.unitRef(n))
	}
	s.materials(a, "application_form", "debt_extinguished_proof", "authorisation")
	out[SampleCancellation] = a

	bad := s.clean(func(u DemoUnit) bool { return u.Use == "residential" && u.Owners[0].IDType == mortgage.IDResident })
	a = s.application(mortgage.FirstGeneral, bad)
	a.Debtors = nil // left to default to the mortgagors, so the bad ID counts once
	a.Mortgagors[0].IDNumber = wrongCheckChar(a.Mortgagors[0].IDNumber)
	a.Units[0].UnitNumber = a.Units[0].UnitNumber[:12] + "X" + a.Units[0].UnitNumber[13:] // X is no land-ownership code
	a.Mortgage = &mortgage.Terms{CollateralKind: "2", PrincipalFen: 0, DebtStart: s.date(0, 0, 30),
		DebtEnd: s.date(0, 0, 10), Scope: standardScope, TransferRestricted: &no}
	s.materials(a, "application_form", "mortgage_contract", "authorisation") // no loan_contract
	out[SampleInvalidFaults5] = a
	return out
}

// sampler carries what the samples share and hands out references and
// units so no two samples use the same one.
type sampler struct {
	demo  Demo
	today mortgage.Date
	bank  Partner
	used  map[string]bool
	refs  int
}

// clean returns the first unused clean unit that ok accepts, or a zero DemoUnit.
func (s *sampler) clean(ok func(DemoUnit) bool) DemoUnit {
	for _, u := range s.demo.Clean {
		if !s.used[u.UnitNumber] && ok(u) {
			s.used[u.UnitNumber] = true
			return u
		}
	}
	return DemoUnit{}
}

// bankMortgage returns the first existing mortgage the sample bank holds.
func (s *sampler) bankMortgage() DemoMortgage {
	for _, m := range s.demo.Mortgages {
		if m.PartnerID == s.bank.ID {
			return m
		}
	}
	return DemoMortgage{}
}

// unitRef names a mortgaged unit with its title certificate.
func (s *sampler) unitRef(number string) mortgage.UnitRef {
	for _, u := range s.demo.Mortgaged {
		if u.UnitNumber == number {
			return u.Ref()
		}
	}
	return mortgage.UnitRef{UnitNumber: number}
}

// application starts a first registration on one unit, the owners as
// mortgagors and debtors, the bank as mortgagee, its loan officer as agent.
func (s *sampler) application(t mortgage.Type, u DemoUnit) *mortgage.Application {
	return &mortgage.Application{
		Reference:  s.reference(),
		Type:       t,
		Units:      []mortgage.UnitRef{u.Ref()},
		Mortgagors: u.Parties(),
		Mortgagee:  s.mortgagee(),
		Debtors:    u.Parties(),
		Agent:      s.agent(),
	}
}

// reference is the bank's own case reference, e.g. LJB-20261126-0001.
func (s *sampler) reference() string {
	s.refs++
	return fmt.Sprintf("LJB-%s-%04d", s.today.Format("20060102"), s.refs)
}

func (s *sampler) mortgagee() mortgage.Party {
	return mortgage.Party{Name: s.bank.Name, IDType: mortgage.IDCreditCode, IDNumber: s.bank.CreditCode}
}

// agent is the bank's loan officer, who applies with a written authorisation.
func (s *sampler) agent() *mortgage.Party {
	const first17 = "23020219880512003"
	return &mortgage.Party{Name: "刘晓东", IDType: mortgage.IDResident, IDNumber: first17 + string(mortgage.ResidentIDCheckChar(first17))}
}

func (s *sampler) date(years, months, days int) mortgage.Date {
	return mortgage.Date{Time: s.today.AddDate(years, months, days)}
}

// materials attaches one small PDF of each kind.
func (s *sampler) materials(a *mortgage.Application, kinds ...string) {
	attach(a, s.bank.ID, kinds...)
}

// wrongCheckChar replaces a resident ID's check character with another.
func wrongCheckChar(id string) string {
	const chars = "0123456789X"
	i := strings.IndexByte(chars, id[len(id)-1])
	return id[:len(id)-1] + string(chars[(i+1)%len(chars)])
}

// samplePDF writes a one-page PDF 1.4 showing one line of ASCII text: a
// catalog, a page tree, a page, its content stream and the standard
// Helvetica font, with a cross-reference table of exact byte offsets.
func samplePDF(line string) []byte {
	var esc strings.Builder
	for _, c := range line {
		switch {
		case c == '(' || c == ')' || c == '\\':
			esc.WriteByte('\\')
			esc.WriteRune(c)
		case c >= 0x20 && c < 0x7f:
			esc.WriteRune(c)
		default:
			esc.WriteByte('?') // Helvetica has no glyphs beyond ASCII
		}
	}
	content := "BT /F1 11 Tf 56 780 Td (Qiqihar real estate registration - demo document) Tj 0 -18 Td (" + esc.String() + ") Tj ET"
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}
