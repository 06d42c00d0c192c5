package registerdata_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mortgaged/mortgage"
	"mortgaged/mortgage/registerdata"
)

// qiqiharDivisions are the county-level division codes of Qiqihar (GB/T 2260), as listed in demodata.go.
var qiqiharDivisions = map[string]bool{
	"230202": true, "230203": true, "230204": true, "230205": true, "230206": true, "230207": true, "230208": true,
	"230221": true, "230223": true, "230224": true, "230225": true, "230227": true, "230229": true, "230230": true,
	"230231": true, "230281": true,
}

func TestGenerateDemoDeterministic(t *testing.T) {
	t.Parallel()
	d1, f1 := demoFile(t, 250, 42)
	d2, f2 := demoFile(t, 250, 42)
	_, f3 := demoFile(t, 250, 43)
	if !bytes.Equal(f1, f2) {
		t.Error("same seed, different files")
	}
	j1, _ := json.Marshal(d1)
	j2, _ := json.Marshal(d2)
	if !bytes.Equal(j1, j2) {
		t.Error("same seed, different Demo")
	}
	if bytes.Equal(f1, f3) {
		t.Error("different seeds, same file")
	}
}

func TestGenerateDemoTooSmall(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if _, err := registerdata.GenerateDemo(&buf, registerdata.MinDemoUnits-1, 1); err == nil {
		t.Errorf("GenerateDemo(%d units) succeeded, want an error", registerdata.MinDemoUnits-1)
	}
}

// TestGenerateDemoIdentifiers checks every identifier in a 2,000-unit demo
// with the mortgage package's own checks.
func TestGenerateDemoIdentifiers(t *testing.T) {
	t.Parallel()
	demo, file := demoFile(t, 2000, 7)
	now := time.Now()
	party := func(line int, field string, p mortgage.Party) {
		t.Helper()
		switch p.IDType {
		case mortgage.IDResident:
			if c := mortgage.CheckResidentID(p.IDNumber, now); c != "" {
				t.Errorf("line %d %s: resident ID %s: %s", line, field, p.IDNumber, c)
			}
			if !qiqiharDivisions[p.IDNumber[:6]] {
				t.Errorf("line %d %s: resident ID %s not issued in Qiqihar", line, field, p.IDNumber)
			}
			if y := p.IDNumber[6:10]; y < "1955" || y > "2000" {
				t.Errorf("line %d %s: resident ID %s born %s, want 1955–2000", line, field, p.IDNumber, y)
			}
		case mortgage.IDCreditCode:
			if c := mortgage.CheckCreditCode(p.IDNumber); c != "" {
				t.Errorf("line %d %s: credit code %s: %s", line, field, p.IDNumber, c)
			}
		default:
			t.Errorf("line %d %s: id type %q, want 1 or 7", line, field, p.IDType)
		}
		if strings.TrimSpace(p.Name) == "" {
			t.Errorf("line %d %s: no name", line, field)
		}
	}
	cert := func(line int, field, s string, kind mortgage.CertKind) {
		t.Helper()
		c, err := mortgage.ParseCertificateNumber(s)
		if err != nil || c.Kind != kind || c.String() != s {
			t.Errorf("line %d %s: certificate number %q: %v", line, field, s, err)
		}
	}
	uses := map[string]int{}
	for i, l := range lines(file) {
		n := i + 1
		var u registerdata.Unit
		if err := json.Unmarshal([]byte(l), &u); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if c := mortgage.CheckUnitNumber(u.UnitNumber); c != "" {
			t.Errorf("line %d: unit number %s: %s", n, u.UnitNumber, c)
		} else if !qiqiharDivisions[mortgage.UnitDivision(u.UnitNumber)] {
			t.Errorf("line %d: unit number %s not in Qiqihar", n, u.UnitNumber)
		}
		cert(n, "titleCertificateNumber", u.TitleCertificateNumber, mortgage.CertTitle)
		uses[u.Use]++
		for _, o := range u.Owners {
			party(n, "owner", o.Party())
		}
		for _, m := range u.Mortgages {
			party(n, "mortgagee", m.Mortgagee)
			cert(n, "mortgage", m.CertificateNumber, mortgage.CertRegistration)
		}
		for _, p := range u.Preregistrations {
			party(n, "holder", mortgage.Party{Name: p.HolderName, IDType: p.HolderIDType, IDNumber: p.HolderIDNumber})
		}
		if _, errs := registerdata.ParseLine([]byte(l)); len(errs) > 0 {
			t.Errorf("line %d does not parse: %v", n, errs)
		}
	}
	for _, p := range demo.Partners {
		if c := mortgage.CheckCreditCode(p.CreditCode); c != "" {
			t.Errorf("partner %s credit code %s: %s", p.ID, p.CreditCode, c)
		}
	}
	if uses["residential"] < 2000*7/10 || uses["garage"] == 0 || uses["commercial"] == 0 || uses["other"] == 0 {
		t.Errorf("uses = %v, want mostly residential with garages, shops and some other", uses)
	}
}

// TestGenerateDemoProportions checks the fixed make-up of every 100 units.
func TestGenerateDemoProportions(t *testing.T) {
	t.Parallel()
	demo, _ := demoFile(t, 2000, 9)
	blocks := 2000 / 100
	tests := []struct {
		name string
		list []registerdata.DemoUnit
		per  int
	}{
		{"Seized", demo.Seized, 2},
		{"Joint", demo.Joint, 6},
		{"Shares", demo.Shares, 6},
		{"Mortgaged", demo.Mortgaged, 14}, // 10 + 2 with two ranks + a home and its garage
		{"Objection", demo.Objection, 2},
		{"Preregistered", demo.Preregistered, 2},
		{"NotMortgageable", demo.NotMortgageable, 1},
		{"Clean", demo.Clean, 67},
	}
	total := 0
	for _, tc := range tests {
		total += len(tc.list)
		if len(tc.list) != tc.per*blocks {
			t.Errorf("%s: %d units, want %d", tc.name, len(tc.list), tc.per*blocks)
		}
	}
	if total != 2000 {
		t.Errorf("case lists hold %d units, want 2000", total)
	}
	// 12 single-unit rights, 2 second ranks and one shared by two units per block.
	if want := 15 * blocks; len(demo.Mortgages) != want {
		t.Errorf("mortgages = %d, want %d", len(demo.Mortgages), want)
	}
	held := map[string]int{}
	for _, m := range demo.Mortgages {
		held[m.PartnerID]++
		p, ok := demo.Partner(m.PartnerID)
		if !ok || p.CreditCode != m.MortgageeCode {
			t.Errorf("mortgage %s held by unknown partner %s", m.CertificateNumber, m.PartnerID)
		}
	}
	for _, p := range demo.Partners {
		if held[p.ID] == 0 {
			t.Errorf("partner %s holds no mortgage", p.ID)
		}
	}
	for _, u := range demo.Joint {
		if len(u.Owners) != 2 || u.OwnershipForm != "joint" {
			t.Errorf("joint unit %s: %s with %d owners", u.UnitNumber, u.OwnershipForm, len(u.Owners))
		}
	}
	for _, u := range demo.NotMortgageable {
		if u.Use != "other" {
			t.Errorf("not-mortgageable unit %s has use %s", u.UnitNumber, u.Use)
		}
	}
}
