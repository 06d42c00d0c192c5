package mortgage

// Fee is what a registration costs and who pays (发改价格规〔2016〕2559号).
type Fee struct {
	AmountFen int64  `json:"amountFen"`
	Payer     string `json:"payer"` // "mortgagee" or "mortgagor": local practice, configured
	Basis     string `json:"basis"` // a stable code saying which rule applied
}

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

// residentialUse says which uses are charged the residential rate.
var residentialUse = map[string]bool{"residential": true, "garage": true, "parking": true, "storeroom": true}

// ComputeFee charges one case: the residential rate unless any unit is
// non-residential. Only one certificate is issued, and the first is free.
func ComputeFee(t Type, exemption string, unitUses []string, payer string) Fee {
	switch {
	case t == Cancellation:
		return Fee{0, payer, FeeBasisCancellation}
	case exemption == FeeExemptionSME:
		return Fee{0, payer, FeeBasisSME}
	}
	for _, u := range unitUses {
		if !residentialUse[u] {
			return Fee{FeeNonResidentialFen, payer, FeeBasisNonResidential}
		}
	}
	return Fee{FeeResidentialFen, payer, FeeBasisResidential}
}
