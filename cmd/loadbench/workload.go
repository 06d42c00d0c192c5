package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
)

// The synthetic register. Unit i (1-based) is unitPrefix + i in 8 digits, a
// valid GB/T 37346 number (12-digit zoning, G state land, B parcel feature,
// parcel 00001, F building, fixture i), with title certificate
// titlePrefix + i in 7 digits + 号.
const (
	unitPrefix  = "230202001001GB00001F"
	titlePrefix = "黑(2020)齐齐哈尔市不动产权第"
	maxUnits    = 9_999_999
)

// Partner ids: the bank the HTTP clients act for, and the partner that owns
// pgbench's bundles.
const (
	benchPartner   = "loadbench-bank"
	pgbenchPartner = "loadbench-pgbench"
)

// bank is the mortgagee of every application; it must be the submitting
// partner itself (validation rule mortgagee_not_partner).
var bank = mortgage.Party{
	Name:     "龙江基准测试银行股份有限公司齐齐哈尔分行",
	IDType:   mortgage.IDCreditCode,
	IDNumber: creditCode("91230200MA1BENCH1"),
}

func unitNumber(i int) string  { return fmt.Sprintf("%s%08d", unitPrefix, i) }
func titleNumber(i int) string { return fmt.Sprintf("%s%07d号", titlePrefix, i) }

var (
	surnames   = []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
	givenNames = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞"}
)

// ownerOf is the sole owner of unit i: a resident of 龙沙区 (230202) born
// on 1950-01-01 plus i/1000 days, with sequence number i%1000, so IDs are
// distinct up to a million units and always carry a valid check character.
func ownerOf(i int) mortgage.Party {
	born := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000)
	first17 := fmt.Sprintf("230202%s%03d", born.Format("20060102"), i%1000)
	return mortgage.Party{
		Name:     string(surnames[i%len(surnames)]) + givenNames[(i/len(surnames))%len(givenNames)],
		IDType:   mortgage.IDResident,
		IDNumber: first17 + string(mortgage.ResidentIDCheckChar(first17)),
	}
}

// creditCode completes a fixed 17-character stem; a bad constant is a
// programming error.
var creditCode = mortgage.MustCreditCode

// samplePDF is a minimal PDF of about 200 bytes standing in for each
// scanned document: bodies and rows stay small while the material checks
// (SHA-256, %PDF- magic) and the materials insert still do their work.
var samplePDF = []byte("%PDF-1.7\n" +
	"% loadbench: stands in for one scanned page of a registration document\n" +
	"1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n" +
	"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n" +
	"trailer <</Root 1 0 R>>\n%%EOF\n")

// requiredDocs are the documents a general first registration cannot do
// without (mortgage/materials.go requiredMaterials).
var requiredDocs = []string{"application_form", "loan_contract", "mortgage_contract"}

func materials() []mortgage.Material {
	sum := sha256.Sum256(samplePDF)
	ms := make([]mortgage.Material, len(requiredDocs))
	for i, kind := range requiredDocs {
		ms[i] = mortgage.Material{Kind: kind, FileName: kind + ".pdf", MediaType: "application/pdf",
			SHA256: hex.EncodeToString(sum[:]), Content: samplePDF}
	}
	return ms
}

// application is a clean general first registration of unit i by its
// owner: nothing in the register stands in its way, so it registers.
func application(i int, today mortgage.Date) *mortgage.Application {
	yes := true
	return &mortgage.Application{
		Reference:  fmt.Sprintf("LOADBENCH-%08d", i),
		Type:       mortgage.FirstGeneral,
		Units:      []mortgage.UnitRef{{UnitNumber: unitNumber(i), TitleCertificateNumber: titleNumber(i)}},
		Mortgagors: []mortgage.Party{ownerOf(i)},
		Mortgagee:  bank,
		Mortgage: &mortgage.Terms{
			CollateralKind:     "2", // 土地和房屋
			PrincipalFen:       int64(300_000_00 + i%200*5_000_00),
			DebtStart:          today,
			DebtEnd:            mortgage.DateOf(today.AddDate(20, 0, -1), time.UTC),
			Scope:              "主债权及利息、违约金、损害赔偿金和实现债权的费用",
			TransferRestricted: &yes,
		},
		Materials: materials(),
	}
}

// buildBodies encodes the applications for units s.lo..s.hi up front, so
// that clients spend their CPU on sending, not on JSON.
func buildBodies(s span, today mortgage.Date) ([][]byte, error) {
	out := make([][]byte, 0, s.len())
	for i := s.lo; i <= s.hi; i++ {
		b, err := centrejson.EncodeApplication(application(i, today))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// span is an inclusive range of unit indexes; an empty span has hi < lo.
type span struct{ lo, hi int }

func (s span) len() int { return max(0, s.hi-s.lo+1) }

// plan divides the register so that no unit is registered by two phases:
// unit 1 for the sample check, rate×d units for phase 2 (open loop needs
// exactly that many), and the rest halved between phase 1 and pgbench.
type plan struct {
	sample     int
	p1, p2, p3 span
}

func planUnits(c config) (plan, error) {
	if err := checkIdentities(c.units); err != nil {
		return plan{}, err
	}
	n2 := int(float64(c.rate) * c.duration.Seconds())
	rest := c.units - 1 - n2
	if rest < 2*c.clients {
		return plan{}, fmt.Errorf("-units %d is too few: phase 2 alone needs %d (rate×d) and phases 1 and 3 need at least %d more; raise -units", c.units, n2, 2*c.clients)
	}
	n1 := rest / 2
	p := plan{sample: 1}
	p.p1 = span{2, 1 + n1}
	p.p2 = span{p.p1.hi + 1, p.p1.hi + n2}
	p.p3 = span{p.p2.hi + 1, c.units}
	return p, nil
}

// checkIdentities makes sure the generators still produce identifiers the
// service accepts, so a bad edit fails here rather than as 422s under load.
func checkIdentities(n int) error {
	today := time.Now()
	for _, i := range []int{1, n} {
		if code := mortgage.CheckUnitNumber(unitNumber(i)); code != "" {
			return fmt.Errorf("unit number %s: %s", unitNumber(i), code)
		}
		if code := mortgage.CheckResidentID(ownerOf(i).IDNumber, today); code != "" {
			return fmt.Errorf("owner ID %s: %s", ownerOf(i).IDNumber, code)
		}
	}
	if code := mortgage.CheckCreditCode(bank.IDNumber); code != "" {
		return fmt.Errorf("bank credit code %s: %s", bank.IDNumber, code)
	}
	return nil
}
