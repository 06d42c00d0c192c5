package registerdata_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"mortgaged/internal/pgtest"
	"mortgaged/mortgage"
	"mortgaged/mortgage/registerdata"
)

// TestParseLineRules changes one thing at a time in the documented example
// (a joint home with a mortgage, a seizure, an objection and a
// pre-registration) and checks which fields are reported.
func TestParseLineRules(t *testing.T) {
	t.Parallel()
	base := docExampleLine(t)
	yes, no := true, false
	shares := func(s ...string) func(u *registerdata.Unit) {
		return func(u *registerdata.Unit) {
			u.OwnershipForm = "shares"
			for i := range u.Owners {
				u.Owners[i].Share = s[i]
			}
		}
	}
	tests := []struct {
		name   string
		change func(u *registerdata.Unit)
		raw    string   // used instead of change when set
		want   []string // fields; nil means valid
	}{
		{name: "OK", change: func(*registerdata.Unit) {}},
		{name: "SoleWithTwoOwners", change: func(u *registerdata.Unit) { u.OwnershipForm = "sole" }, want: []string{"owners"}},
		{name: "JointWithOneOwner", change: func(u *registerdata.Unit) { u.Owners = u.Owners[:1] }, want: []string{"owners"}},
		{name: "JointWithShare", change: func(u *registerdata.Unit) { u.Owners[0].Share = "1/2" }, want: []string{"owners[0].share"}},
		{name: "SharesSumToOne", change: shares("2/3", "1/3")},
		{name: "SharesSumBelowOne", change: shares("1/2", "1/3"), want: []string{"owners"}},
		{name: "SharesSumAboveOne", change: shares("2/3", "2/3"), want: []string{"owners"}},
		{name: "ThreeThirds", change: func(u *registerdata.Unit) {
			u.Owners = append(u.Owners, registerdata.Owner{Name: "钱七", IDType: "3", IDNumber: "E12345678"})
			shares("1/3", "1/3", "1/3")(u)
		}},
		{name: "ShareMissing", change: shares("1/1", ""), want: []string{"owners[1].share"}},
		{name: "ShareZeroDenominator", change: shares("1/2", "1/0"), want: []string{"owners[1].share"}},
		{name: "ShareImproper", change: shares("3/2", "1/2"), want: []string{"owners[0].share"}},
		{name: "ResidentIDCheckDigit", change: func(u *registerdata.Unit) { u.Owners[1].IDNumber = "230202198706200025" }, want: []string{"owners[1].idNumber"}},
		{name: "ResidentIDBirthDate", change: func(u *registerdata.Unit) {
			u.Owners[1].IDNumber = "230202198702300021" // 30 February; check character recomputed below
			u.Owners[1].IDNumber = u.Owners[1].IDNumber[:17] + string(checkChar(u.Owners[1].IDNumber[:17]))
		}, want: []string{"owners[1].idNumber"}},
		{name: "LowerCaseX", change: func(u *registerdata.Unit) {
			u.Preregistrations[0].HolderIDNumber = strings.ToLower(u.Preregistrations[0].HolderIDNumber)
		}},
		{name: "DuplicateOwner", change: func(u *registerdata.Unit) { u.Owners[1] = u.Owners[0] }, want: []string{"owners[1].idNumber"}},
		{name: "UnknownIDType", change: func(u *registerdata.Unit) { u.Owners[0].IDType = "8" }, want: []string{"owners[0].idType"}},
		{name: "PassportOwner", change: func(u *registerdata.Unit) { u.Owners[0].IDType, u.Owners[0].IDNumber = "3", "E12345678" }},
		{name: "CreditCodeCheck", change: func(u *registerdata.Unit) { u.Mortgages[0].Mortgagee.IDNumber = "91230202MA1B7K9Q43" }, want: []string{"mortgages[0].mortgagee.idNumber"}},
		{name: "UnitNumber", change: func(u *registerdata.Unit) { u.UnitNumber = "230202001001GI00001F00010001" }, want: []string{"unitNumber"}},
		{name: "UnknownUse", change: func(u *registerdata.Unit) { u.Use = "house" }, want: []string{"use"}},
		{name: "AreaThreeDecimals", change: func(u *registerdata.Unit) { u.AreaM2 = "89.505" }, want: []string{"areaM2"}},
		{name: "AreaZero", change: func(u *registerdata.Unit) { u.AreaM2 = "0.00" }, want: []string{"areaM2"}},
		{name: "AreaMissing", change: func(u *registerdata.Unit) { u.AreaM2 = "" }, want: []string{"areaM2"}},
		{name: "AreaAsNumber", raw: strings.Replace(base, `"areaM2":"89.50"`, `"areaM2":89.5`, 1)},
		{name: "AreaAsBool", raw: strings.Replace(base, `"areaM2":"89.50"`, `"areaM2":true`, 1), want: []string{"areaM2"}},
		{name: "TitleIsRegistrationCertificate", change: func(u *registerdata.Unit) {
			u.TitleCertificateNumber = u.Mortgages[0].CertificateNumber
		}, want: []string{"titleCertificateNumber"}},
		{name: "FullWidthBrackets", change: func(u *registerdata.Unit) {
			u.TitleCertificateNumber = "黑（2020）齐齐哈尔市不动产权第0000001号"
		}},
		{name: "GeneralWithMaximum", change: func(u *registerdata.Unit) { u.Mortgages[0].MaximumAmount = "1.00" }, want: []string{"mortgages[0].maximumAmount"}},
		{name: "MaximumWithoutAmount", change: func(u *registerdata.Unit) {
			u.Mortgages[0].Kind, u.Mortgages[0].PrincipalAmount = "maximum", ""
		}, want: []string{"mortgages[0].maximumAmount"}},
		{name: "AmountFloat", change: func(u *registerdata.Unit) { u.Mortgages[0].PrincipalAmount = "1e5" }, want: []string{"mortgages[0].principalAmount"}},
		{name: "DebtEndBeforeStart", change: func(u *registerdata.Unit) { u.Mortgages[0].DebtEnd = "2021-02-28" }, want: []string{"mortgages[0].debtEnd"}},
		{name: "TransferRestrictedMissing", change: func(u *registerdata.Unit) { u.Mortgages[0].TransferRestricted = nil }, want: []string{"mortgages[0].transferRestricted"}},
		{name: "RegisteredAtWithoutOffset", change: func(u *registerdata.Unit) { u.Mortgages[0].RegisteredAt = "2021-03-02 10:00:00" }, want: []string{"mortgages[0].registeredAt"}},
		{name: "DuplicateRank", change: func(u *registerdata.Unit) {
			m := u.Mortgages[0]
			m.CertificateNumber = "黑(2022)齐齐哈尔市不动产证明第0000007号"
			u.Mortgages = append(u.Mortgages, m)
		}, want: []string{"mortgages[1].rank"}},
		{name: "SecondRank", change: func(u *registerdata.Unit) {
			m := u.Mortgages[0]
			m.CertificateNumber, m.Rank = "黑(2022)齐齐哈尔市不动产证明第0000007号", 2
			u.Mortgages = append(u.Mortgages, m)
		}},
		{name: "SeizureEndsBeforeStart", change: func(u *registerdata.Unit) { u.Seizures[0].Until = "2025-01-01" }, want: []string{"seizures[0].until"}},
		{name: "SeizureOpenEnded", change: func(u *registerdata.Unit) { u.Seizures[0].Until = "" }},
		{name: "ObjectionNoMatter", change: func(u *registerdata.Unit) { u.Objections[0].Matter = "  " }, want: []string{"objections[0].matter"}},
		{name: "PreregistrationKind", change: func(u *registerdata.Unit) { u.Preregistrations[0].Kind = "sale" }, want: []string{"preregistrations[0].kind"}},
		{name: "NotMortgageable", change: func(u *registerdata.Unit) { u.Mortgageable = &no }},
		{name: "MortgageableAbsent", change: func(u *registerdata.Unit) { u.Mortgageable = nil }},
		{name: "MortgageableTrue", change: func(u *registerdata.Unit) { u.Mortgageable = &yes }},
		{name: "ControlCharacter", change: func(u *registerdata.Unit) { u.Location = "龙沙区\x00卜奎大街" }, want: []string{"location"}},
		{name: "UnknownField", raw: strings.Replace(base, `"use":`, `"nickname":"x","use":`, 1), want: []string{"nickname"}},
		{name: "TwoObjects", raw: base + " {}", want: []string{""}},
		{name: "NotJSON", raw: "unitNumber,location", want: []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line := tc.raw
			if line == "" {
				line = mutate(t, base, tc.change)
			}
			_, errs := registerdata.ParseLine([]byte(line))
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("faults %v, want fields %q", errs, tc.want)
			}
		})
	}
}

// TestImportLongLine checks that a line over the limit is reported and the
// lines after it are still checked.
func TestImportLongLine(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	good := docExampleLine(t)
	long := `{"location":"` + strings.Repeat("长", registerdata.MaxLineBytes/3+1) + `"}`
	file := strings.Join([]string{good, long, "{", good}, "\r\n")
	_, err := registerdata.Import(context.Background(), d, strings.NewReader(file), nil)
	var ie *registerdata.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("Import = %v, want *ImportError", err)
	}
	var got []registerdata.LineError
	for _, le := range ie.Errors {
		got = append(got, registerdata.LineError{Line: le.Line, Field: le.Field})
	}
	want := []registerdata.LineError{{Line: 2}, {Line: 3}, {Line: 4, Field: "unitNumber"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("faults %v, want %v", ie.Errors, want)
	}
}

// TestImportProgress checks progress every 1,000 lines and at the end, blank lines included.
func TestImportProgress(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	_, file := demoFile(t, 2400, 2)
	file = append(file, "\n\n"...)
	var calls []int
	if _, err := registerdata.Import(context.Background(), d, bytes.NewReader(file), func(n int) { calls = append(calls, n) }); err != nil {
		t.Fatal(err)
	}
	if want := []int{1000, 2000, 2402}; !reflect.DeepEqual(calls, want) {
		t.Errorf("progress calls %v, want %v", calls, want)
	}
}

// checkChar is the resident ID check character of 17 digits.
func checkChar(first17 string) byte { return mortgage.ResidentIDCheckChar(first17) }
