package mortgage

import "mortgaged/mortgage/store"

// Fee is what a registration costs and who pays (发改价格规〔2016〕2559号).
type Fee struct {
	AmountFen int64  `json:"amountFen"`
	Payer     string `json:"payer"` // FeePayerMortgagee; records from before it was fixed may say "mortgagor"
	Basis     string `json:"basis"` // a stable code saying which rate or exemption applied
	Cases     int    `json:"cases"` // 件 counted: one per parcel (宗地) for a mortgage
	Rule      string `json:"rule"`  // the provision the basis rests on
}

// FeePayerMortgagee: the fee for a mortgage registration is paid by the
// party registered as mortgagee (2559). It is the law, not a setting.
const FeePayerMortgagee = "mortgagee"

// Fees per case (按件), in fen. Garages, parking spaces and storerooms count as residential.
const (
	FeeResidentialFen    = 80_00
	FeeNonResidentialFen = 550_00
)

// Fee bases.
const (
	FeeBasisResidential    = "residential"
	FeeBasisNonResidential = "non_residential"
	FeeBasisCancellation   = "cancellation_free"
	FeeBasisSME            = "small_micro_enterprise_exempt"
)

// The provisions each basis rests on, as the fee record names them.
const (
	FeeRuleResidential    = "发改价格规〔2016〕2559号（收费标准）：住宅类每件80元；按件收取，同一宗地上多个抵押物办理一笔贷款按一件，非同宗地按多件"
	FeeRuleNonResidential = "发改价格规〔2016〕2559号（收费标准）：非住宅类每件550元；按件收取，同一宗地上多个抵押物办理一笔贷款按一件，非同宗地按多件"
	FeeRuleCancellation   = "发改价格规〔2016〕2559号（不收费情形）：注销登记不收取不动产登记费"
	FeeRuleSME            = "发改价格规〔2016〕2559号（减免规定）：小微企业（含个体工商户）申请不动产登记免收不动产登记费"
)

// residentialUse says which uses are charged the residential rate.
var residentialUse = map[string]bool{"residential": true, "garage": true, "parking": true, "storeroom": true}

// FeeUnit is one mortgaged unit as the fee counts it: its GB/T 37346 number
// (the parcel is part of it) and its use.
type FeeUnit struct {
	Number, Use string
}

// UnitParcel returns the parcel (宗地) part of a GB/T 37346 unit number: the
// zoning, the land ownership and feature codes and the parcel serial, the
// first 19 characters. It returns "" if n is not a valid unit number.
func UnitParcel(n string) string {
	if CheckUnitNumber(n) != "" {
		return ""
	}
	return n[:19]
}

// ComputeFee charges a registration. A mortgage is one 件 per parcel: several
// units on the same parcel for one loan are one 件, units on different
// parcels one 件 each (2559, 计费单位). A 件 is charged the residential rate
// unless a unit of it is non-residential. Only one certificate is issued, and
// the first is free.
func ComputeFee(t Type, exemption string, units []FeeUnit) Fee {
	parcels := map[string]bool{} // parcel → non-residential
	for _, u := range units {
		p := UnitParcel(u.Number)
		if p == "" {
			p = u.Number // not a unit number: counted on its own
		}
		parcels[p] = parcels[p] || !residentialUse[u.Use]
	}
	cases := len(parcels)
	switch {
	case t == Cancellation:
		return Fee{0, FeePayerMortgagee, FeeBasisCancellation, max(cases, 1), FeeRuleCancellation}
	case exemption == FeeExemptionSME:
		return Fee{0, FeePayerMortgagee, FeeBasisSME, cases, FeeRuleSME}
	}
	f := Fee{Payer: FeePayerMortgagee, Basis: FeeBasisResidential, Cases: cases, Rule: FeeRuleResidential}
	for _, nonResidential := range parcels {
		if nonResidential {
			f.AmountFen += FeeNonResidentialFen
			f.Basis, f.Rule = FeeBasisNonResidential, FeeRuleNonResidential
		} else {
			f.AmountFen += FeeResidentialFen
		}
	}
	return f
}

// record is the fee as the fees table holds it.
func (f *Fee) record() store.NewFee {
	return store.NewFee{AmountFen: f.AmountFen, Payer: f.Payer, Basis: f.Basis, Cases: f.Cases, Rule: f.Rule}
}
