package mortgage_test

import (
	"slices"
	"strings"
	"testing"

	"mortgaged/mortgage"
)

var rules = mortgage.Rules{Today: mortgage.NewDate(2026, 11, 26), PartnerCreditCode: bankCode}

func validGeneral() *mortgage.Application {
	return newGeneral("LJB-TEST-000001", unit{number: "230202001001GB00001F00010001", title: "黑(2020)齐齐哈尔市不动产权第0000001号", owners: []owner{{party: zhang}}})
}

// TestValidate changes one thing in a valid application and expects exactly
// the named faults.
func TestValidate(t *testing.T) {
	t.Parallel()
	type fault struct{ field, code string }
	cases := []struct {
		name   string
		change func(a *mortgage.Application)
		want   []fault
	}{
		{"OK", func(a *mortgage.Application) {}, nil},
		{"OKStandardExampleID", func(a *mortgage.Application) { a.Mortgagors[0].IDNumber = "11010519491231002X" }, nil},
		{"OKStandardExampleID1880", func(a *mortgage.Application) { a.Mortgagors[0].IDNumber = "440524188001010014" }, nil},
		{"OKPublishedCreditCode", func(a *mortgage.Application) {
			a.Mortgagors = []mortgage.Party{{Name: "某公司", IDType: mortgage.IDCreditCode, IDNumber: "91310000631295002H"}}
		}, nil},
		{"OKPassport", func(a *mortgage.Application) {
			a.Mortgagors[0] = mortgage.Party{Name: "John Smith", IDType: mortgage.IDPassport, IDNumber: "E12345678"}
		}, nil},
		{"OKAgentWithAuthorisation", func(a *mortgage.Application) {
			a.Agent = &li
			a.Materials = append(a.Materials, doc("authorisation"))
		}, nil},
		{"ErrReferenceMissing", func(a *mortgage.Application) { a.Reference = "" }, []fault{{"reference", "required"}}},
		{"ErrReferenceSpace", func(a *mortgage.Application) { a.Reference = "LJB 1" }, []fault{{"reference", "reference_format"}}},
		{"ErrReferenceTooLong", func(a *mortgage.Application) { a.Reference = strings.Repeat("R", 65) }, []fault{{"reference", "too_long"}}},
		{"ErrIDCheckDigit", func(a *mortgage.Application) {
			id := a.Mortgagors[0].IDNumber
			a.Mortgagors[0].IDNumber = id[:17] + map[bool]string{true: "1", false: "2"}[id[17] != '1']
		}, []fault{{"mortgagors[0].idNumber", "id_number_check_digit"}}},
		{"ErrIDBirthDate", func(a *mortgage.Application) { a.Mortgagors[0].IDNumber = residentID("23020219990230123") }, []fault{{"mortgagors[0].idNumber", "id_number_birth_date"}}},
		{"ErrIDBornTomorrow", func(a *mortgage.Application) { a.Mortgagors[0].IDNumber = residentID("23020220261127123") }, []fault{{"mortgagors[0].idNumber", "id_number_birth_date"}}},
		{"ErrIDShort", func(a *mortgage.Application) { a.Mortgagors[0].IDNumber = "23020219800101123" }, []fault{{"mortgagors[0].idNumber", "id_number_format"}}},
		{"ErrIDTypeUnknown", func(a *mortgage.Application) { a.Mortgagors[0].IDType = "8" }, []fault{{"mortgagors[0].idType", "id_type_unknown"}}},
		{"ErrCreditCodeCheck", func(a *mortgage.Application) { a.Mortgagee.IDNumber = "91310000631295002J" }, []fault{{"mortgagee.idNumber", "credit_code_check_digit"}, {"mortgagee.idNumber", "mortgagee_not_partner"}}},
		{"ErrCreditCodeAlphabet", func(a *mortgage.Application) { a.Mortgagee.IDNumber = "91310000631295OO2H" }, []fault{{"mortgagee.idNumber", "credit_code_format"}, {"mortgagee.idNumber", "mortgagee_not_partner"}}},
		{"ErrMortgageeNotPartner", func(a *mortgage.Application) { a.Mortgagee.IDNumber = otherBank }, []fault{{"mortgagee.idNumber", "mortgagee_not_partner"}}},
		{"OKPromiseDueToday", func(a *mortgage.Application) {
			a.Materials = a.Materials[:2]
			a.Promises = []mortgage.Promise{{Kind: "mortgage_contract", DueOn: mortgage.NewDate(2026, 11, 26)}}
		}, nil},
		{"ErrPromiseDueInThePast", func(a *mortgage.Application) {
			a.Materials = a.Materials[:2]
			a.Promises = []mortgage.Promise{{Kind: "mortgage_contract", DueOn: mortgage.NewDate(2026, 11, 25)}}
		}, []fault{{"promises[0].dueOn", "promise_due_date"}}},
		{"ErrUnitNumber", func(a *mortgage.Application) { a.Units[0].UnitNumber = "230202001001GB00001F0001000" }, []fault{{"units[0].unitNumber", "unit_number_format"}}},
		{"ErrUnitParcelLetter", func(a *mortgage.Application) { a.Units[0].UnitNumber = "230202001001XB00001F00010001" }, []fault{{"units[0].unitNumber", "unit_number_format"}}},
		{"ErrUnitDuplicate", func(a *mortgage.Application) { a.Units = append(a.Units, a.Units[0]) }, []fault{{"units[1].unitNumber", "unit_duplicate"}}},
		{"ErrNoUnits", func(a *mortgage.Application) { a.Units = nil }, []fault{{"units", "required"}}},
		{"ErrTitleFormat", func(a *mortgage.Application) {
			a.Units[0].TitleCertificateNumber = "黑(2020)齐齐哈尔市不动产权第001号"
		}, []fault{{"units[0].titleCertificateNumber", "certificate_number_format"}}},
		{"ErrTitleIsRegistrationCertificate", func(a *mortgage.Application) {
			a.Units[0].TitleCertificateNumber = "黑(2026)齐齐哈尔市不动产证明第0000123号"
		}, []fault{{"units[0].titleCertificateNumber", "certificate_number_format"}}},
		{"OKTitleFullWidth", func(a *mortgage.Application) {
			a.Units[0].TitleCertificateNumber = "黑（2020）齐齐哈尔市不动产权第0000001号"
		}, nil},
		{"ErrAmountZero", func(a *mortgage.Application) { a.Mortgage.PrincipalFen = 0 }, []fault{{"mortgage.principalAmount", "amount_not_positive"}}},
		{"ErrAmountTooLarge", func(a *mortgage.Application) { a.Mortgage.PrincipalFen = mortgage.MaxAmountFen + 1 }, []fault{{"mortgage.principalAmount", "amount_too_large"}}},
		{"ErrMaximumOnGeneral", func(a *mortgage.Application) { a.Mortgage.MaximumFen = 1 }, []fault{{"mortgage.maximumAmount", "not_allowed"}}},
		{"ErrMaximumWithoutAmount", func(a *mortgage.Application) {
			a.Type = mortgage.FirstMaximum
			a.Materials = []mortgage.Material{doc("application_form"), doc("maximum_mortgage_contract")}
		}, []fault{{"mortgage.maximumAmount", "amount_not_positive"}, {"mortgage.principalAmount", "not_allowed"}}},
		{"ErrDebtEndBeforeStart", func(a *mortgage.Application) {
			a.Mortgage.DebtEnd = mortgage.NewDate(2026, 12, 31)
			a.Mortgage.DebtStart = mortgage.NewDate(2027, 1, 1)
		}, []fault{{"mortgage.debtEnd", "debt_period_order"}}},
		{"OKDebtEndsToday", func(a *mortgage.Application) {
			a.Mortgage.DebtStart = mortgage.NewDate(2020, 1, 1)
			a.Mortgage.DebtEnd = mortgage.NewDate(2026, 11, 26)
		}, nil},
		{"ErrDebtTooLong", func(a *mortgage.Application) { a.Mortgage.DebtEnd = mortgage.NewDate(2076, 11, 27) }, []fault{{"mortgage.debtEnd", "debt_period_too_long"}}},
		{"ErrDebtStartTooLate", func(a *mortgage.Application) { a.Mortgage.DebtStart = mortgage.NewDate(2027, 12, 1) }, []fault{{"mortgage.debtStart", "debt_start_too_late"}}},
		{"ErrDebtDatesMissing", func(a *mortgage.Application) {
			a.Mortgage.DebtStart, a.Mortgage.DebtEnd = mortgage.Date{}, mortgage.Date{}
		}, []fault{{"mortgage.debtEnd", "required"}, {"mortgage.debtStart", "required"}}},
		{"ErrScopeMissing", func(a *mortgage.Application) { a.Mortgage.Scope = " " }, []fault{{"mortgage.scope", "required"}}},
		{"ErrTransferRestrictionUnstated", func(a *mortgage.Application) { a.Mortgage.TransferRestricted = nil }, []fault{{"mortgage.transferRestricted", "required"}}},
		{"ErrCollateralKind", func(a *mortgage.Application) { a.Mortgage.CollateralKind = "9" }, []fault{{"mortgage.collateralKind", "collateral_kind_unknown"}}},
		{"ErrNoMortgagors", func(a *mortgage.Application) { a.Mortgagors = nil }, []fault{{"mortgagors", "required"}}},
		{"ErrNoTerms", func(a *mortgage.Application) { a.Mortgage = nil }, []fault{{"mortgage", "required"}}},
		{"ErrLoanContractMissing", func(a *mortgage.Application) { a.Materials = slices.Delete(a.Materials, 1, 2) }, []fault{{"materials", "material_missing"}}},
		{"ErrAuthorisationMissing", func(a *mortgage.Application) { a.Agent = &li }, []fault{{"materials", "material_missing"}}},
		{"ErrMaterialHash", func(a *mortgage.Application) { a.Materials[0].SHA256 = strings.Repeat("0", 64) }, []fault{{"materials[0].sha256", "material_sha256_mismatch"}}},
		{"ErrMaterialNotPDF", func(a *mortgage.Application) {
			a.Materials[0] = doc("application_form")
			a.Materials[0].MediaType = "image/png"
		}, []fault{{"materials[0].content", "material_content_mismatch"}}},
		{"ErrMaterialMediaType", func(a *mortgage.Application) { a.Materials[0].MediaType = "application/msword" }, []fault{{"materials[0].mediaType", "material_media_type"}}},
		{"ErrMaterialKind", func(a *mortgage.Application) { a.Materials = append(a.Materials, doc("selfie")) }, []fault{{"materials[3].kind", "material_kind_unknown"}}},
		{"ErrMaterialEmpty", func(a *mortgage.Application) { a.Materials[0].Content = nil }, []fault{{"materials[0].content", "material_empty"}}},
		// The small/micro-enterprise exemption rests on evidence, not on the
		// bank's word (2559, 减免规定); an individual business (个体工商户)
		// whose property is in the operator's own name can claim it.
		{"ErrFeeExemptionWithoutEvidence", func(a *mortgage.Application) {
			a.Mortgagors = []mortgage.Party{firm}
			a.FeeExemption = mortgage.FeeExemptionSME
		}, []fault{{"materials", "fee_exemption_invalid"}}},
		{"OKFeeExemptionFirmWithEvidence", func(a *mortgage.Application) {
			a.Mortgagors = []mortgage.Party{firm}
			a.FeeExemption = mortgage.FeeExemptionSME
			a.Materials = append(a.Materials, doc(mortgage.MaterialSMEProof))
		}, nil},
		{"OKFeeExemptionIndividualBusiness", func(a *mortgage.Application) {
			a.FeeExemption = mortgage.FeeExemptionSME
			a.Materials = append(a.Materials, doc(mortgage.MaterialSMEProof))
		}, nil},
		{"ErrFeeExemptionUnknown", func(a *mortgage.Application) { a.FeeExemption = "friend_of_the_mayor" }, []fault{{"feeExemption", "fee_exemption_invalid"}}},
		{"ErrCancellationOnFirst", func(a *mortgage.Application) { a.Cancellation = &mortgage.CancellationTerms{} }, []fault{{"cancellation", "not_allowed"}}},
		{"ErrTypeUnknown", func(a *mortgage.Application) { a.Type = "mortgage_transfer" }, []fault{{"type", "type_unknown"}}},
		{"ErrFiveFaultsAtOnce", func(a *mortgage.Application) {
			a.Units[0].UnitNumber = "bad"
			a.Mortgagors[0].IDNumber = "11010519491231002Y"
			a.Mortgage.PrincipalFen = -5
			a.Mortgage.Scope = ""
			a.Materials = a.Materials[:1]
		}, []fault{{"materials", "material_missing"}, {"mortgage.principalAmount", "amount_not_positive"}, {"mortgage.scope", "required"}, {"mortgagors[0].idNumber", "id_number_format"}, {"units[0].unitNumber", "unit_number_format"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := validGeneral()
			c.change(a)
			var got []fault
			for _, i := range mortgage.Validate(a, rules).Sorted() {
				got = append(got, fault{i.Field, string(i.Code)})
				if i.Message == "" {
					t.Errorf("%s %s has no message", i.Field, i.Code)
				}
			}
			want := slices.Clone(c.want)
			slices.SortFunc(want, func(x, y fault) int { return strings.Compare(x.field+x.code, y.field+y.code) })
			if !slices.Equal(got, want) {
				t.Errorf("faults %v, want %v", got, want)
			}
		})
	}
}

func TestValidateCancellation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		change func(a *mortgage.Application)
		want   []mortgage.Code
	}{
		{"OK", func(a *mortgage.Application) {}, nil},
		{"OKFullWidth", func(a *mortgage.Application) {
			a.Cancellation.CertificateNumber = "黑（2026）齐齐哈尔市不动产证明第0000123号"
		}, nil},
		{"ErrTitleNumberInstead", func(a *mortgage.Application) {
			a.Cancellation.CertificateNumber = "黑(2020)齐齐哈尔市不动产权第0000001号"
		}, []mortgage.Code{mortgage.CodeCertNumberFormat}},
		{"ErrNoTerms", func(a *mortgage.Application) { a.Cancellation = nil }, []mortgage.Code{mortgage.CodeRequired}},
		{"ErrNoReason", func(a *mortgage.Application) { a.Cancellation.Reason = "" }, []mortgage.Code{mortgage.CodeRequired}},
		{"ErrMortgageTerms", func(a *mortgage.Application) { a.Mortgage = &mortgage.Terms{} }, []mortgage.Code{mortgage.CodeNotAllowed}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newCancellation("LJB-TEST-000002", "黑(2026)齐齐哈尔市不动产证明第0000123号")
			c.change(a)
			if got := codes(mortgage.Validate(a, rules)); !slices.Equal(got, append([]mortgage.Code{}, c.want...)) {
				t.Errorf("codes %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseYuan(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"0": 0, "1": 100, "1.5": 150, "1.05": 105, "1500000.00": 150000000, "9999999999999.99": 999999999999999} {
		if got, err := mortgage.ParseYuan(in); err != nil || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "1.", ".5", "1.234", "-1", "+1", "1e5", "1,000", "１", "12345678901234", "NaN", " 1"} {
		if _, err := mortgage.ParseYuan(in); err == nil {
			t.Errorf("ParseYuan(%q) accepted", in)
		}
	}
}

func TestFormatYuan(t *testing.T) {
	t.Parallel()
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 150: "1.50", 150000000: "1500000.00", -80_00: "-80.00"} {
		if got := mortgage.FormatYuan(fen); got != want {
			t.Errorf("FormatYuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

func TestComputeFee(t *testing.T) {
	t.Parallel()
	const (
		parcel1 = "230202001001GB00001F000100"
		parcel2 = "230202001001GB00002F000100"
	)
	units := func(nu ...string) []mortgage.FeeUnit { // number, use, number, use…
		var us []mortgage.FeeUnit
		for i := 0; i < len(nu); i += 2 {
			us = append(us, mortgage.FeeUnit{Number: nu[i], Use: nu[i+1]})
		}
		return us
	}
	for _, c := range []struct {
		name      string
		typ       mortgage.Type
		exemption string
		units     []mortgage.FeeUnit
		fen       int64
		cases     int
		basis     string
	}{
		{"Residential", mortgage.FirstGeneral, "", units(parcel1+"01", "residential"), 80_00, 1, mortgage.FeeBasisResidential},
		{"HomeAndParking", mortgage.FirstGeneral, "", units(parcel1+"01", "residential", parcel1+"02", "parking", parcel1+"03", "storeroom"), 80_00, 1, mortgage.FeeBasisResidential},
		{"Office", mortgage.FirstMaximum, "", units(parcel1+"01", "office"), 550_00, 1, mortgage.FeeBasisNonResidential},
		{"HomeAndShopSameParcel", mortgage.FirstGeneral, "", units(parcel1+"01", "residential", parcel1+"02", "commercial"), 550_00, 1, mortgage.FeeBasisNonResidential},
		{"HomesOnTwoParcels", mortgage.FirstGeneral, "", units(parcel1+"01", "residential", parcel2+"01", "residential"), 160_00, 2, mortgage.FeeBasisResidential},
		{"HomeAndShopTwoParcels", mortgage.FirstGeneral, "", units(parcel1+"01", "residential", parcel2+"01", "commercial"), 630_00, 2, mortgage.FeeBasisNonResidential},
		{"SME", mortgage.FirstGeneral, mortgage.FeeExemptionSME, units(parcel1+"01", "industrial"), 0, 1, mortgage.FeeBasisSME},
		{"Cancellation", mortgage.Cancellation, "", nil, 0, 1, mortgage.FeeBasisCancellation},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := mortgage.ComputeFee(c.typ, c.exemption, c.units)
			// 2559: the party registered as mortgagee pays, always.
			if f.AmountFen != c.fen || f.Cases != c.cases || f.Basis != c.basis || f.Rule == "" || f.Payer != mortgage.FeePayerMortgagee {
				t.Errorf("fee %+v, want %d fen, %d 件, %s", f, c.fen, c.cases, c.basis)
			}
		})
	}
}

// TestValidateMortgageeIdentities: with the partner's identities given, the
// mortgagee must be one of them, name and credit code together (S8).
func TestValidateMortgageeIdentities(t *testing.T) {
	t.Parallel()
	r := mortgage.Rules{Today: rules.Today, Mortgagees: []mortgage.Mortgagee{{Name: bank.Name, CreditCode: bankCode}, {Name: branch.Name, CreditCode: branch.IDNumber}}}
	cases := []struct {
		name      string
		mortgagee mortgage.Party
		field     string // "" when valid
	}{
		{"OKOwn", bank, ""},
		{"OKOwnSpacedName", mortgage.Party{Name: " " + bank.Name + " ", IDType: mortgage.IDCreditCode, IDNumber: bankCode}, ""},
		{"OKBranch", branch, ""},
		{"ErrOtherNameOwnCode", mortgage.Party{Name: hcBank.Name, IDType: mortgage.IDCreditCode, IDNumber: bankCode}, "mortgagee.name"},
		{"ErrBranchNameOwnCode", mortgage.Party{Name: branch.Name, IDType: mortgage.IDCreditCode, IDNumber: bankCode}, "mortgagee.name"},
		{"ErrOtherCodeOwnName", mortgage.Party{Name: bank.Name, IDType: mortgage.IDCreditCode, IDNumber: otherBank}, "mortgagee.idNumber"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := validGeneral()
			a.Mortgagee = c.mortgagee
			var got []string
			for _, i := range mortgage.Validate(a, r) {
				if i.Code == mortgage.CodeMortgageeMismatch {
					got = append(got, i.Field)
				}
			}
			if want := []string{c.field}; (c.field == "" && len(got) > 0) || (c.field != "" && !slices.Equal(got, want)) {
				t.Errorf("mortgagee_not_partner on %v, want %q", got, c.field)
			}
		})
	}
}

// TestStrictRulesInValidation: the demands beyond the law that validation
// makes are off by default and apply once the centre switches them on.
func TestStrictRulesInValidation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		app    func() *mortgage.Application
		strict mortgage.StrictRules
		want   mortgage.Code
	}{
		// The law sets no bar on securing a debt whose term has ended.
		{"DebtPeriodEnded", func() *mortgage.Application {
			a := validGeneral()
			a.Mortgage.DebtStart = mortgage.NewDate(2020, 1, 1)
			a.Mortgage.DebtEnd = mortgage.NewDate(2026, 11, 25)
			return a
		}, mortgage.StrictRules{DebtPeriodEnded: true}, mortgage.CodeDebtPeriodEnded},
		// 实施细则第六十六条: the mortgage clause may sit in the loan contract.
		{"SeparateMortgageContract", func() *mortgage.Application {
			a := validGeneral()
			a.Materials = slices.DeleteFunc(a.Materials, func(m mortgage.Material) bool { return m.Kind == "mortgage_contract" })
			return a
		}, mortgage.StrictRules{SeparateMortgageContract: true}, mortgage.CodeMaterialMissing},
		// The mortgagee applying alone gives up its right: no debt proof needed.
		{"DebtExtinguishedProof", func() *mortgage.Application {
			a := newCancellation("LJB-TEST-000002", "黑(2026)齐齐哈尔市不动产证明第0000123号")
			a.Cancellation.Reason = "抵押权人放弃抵押权"
			a.Materials = slices.DeleteFunc(a.Materials, func(m mortgage.Material) bool { return m.Kind == "debt_extinguished_proof" })
			return a
		}, mortgage.StrictRules{DebtExtinguishedProof: true}, mortgage.CodeMaterialMissing},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if is := mortgage.Validate(c.app(), rules); len(is) > 0 {
				t.Errorf("by default: %v, want no fault", is)
			}
			strict := rules
			strict.Strict = c.strict
			if got := codes(mortgage.Validate(c.app(), strict)); !slices.Equal(got, []mortgage.Code{c.want}) {
				t.Errorf("switched on: %v, want %v", got, c.want)
			}
			// Another strict rule does not bring this one in.
			other := rules
			other.Strict = mortgage.StrictRules{CoOwnerNotice: true}
			if is := mortgage.Validate(c.app(), other); len(is) > 0 {
				t.Errorf("with only coowner_notice on: %v, want no fault", is)
			}
		})
	}
}
