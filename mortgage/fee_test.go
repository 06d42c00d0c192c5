package mortgage_test

import (
	"testing"

	"mortgaged/mortgage"
)

// TestFeePerParcel: one 件 per parcel (宗地) for one loan, however many units
// it holds (发改价格规〔2016〕2559号, 计费单位). Two homes on parcels GB00001 and
// GB00002 are two 件, 160 yuan; two on GB00001 are one, 80 yuan. The fee
// record names the rule and the count.
func TestFeePerParcel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range []struct {
		name    string
		numbers [2]string
		fen     int64
		cases   int
	}{
		{"DifferentParcels", [2]string{"230202001001GB00001F00010901", "230202001001GB00002F00010901"}, 160_00, 2},
		{"SameParcel", [2]string{"230202001001GB00001F00010902", "230202001001GB00001F00010903"}, 80_00, 1},
	} {
		u1 := e.addUnit(unit{number: c.numbers[0], owners: []owner{{party: zhang}}})
		u2 := e.addUnit(unit{number: c.numbers[1], owners: []owner{{party: zhang}}})
		a := e.general(u1)
		a.Units = append(a.Units, mortgage.UnitRef{UnitNumber: u2.number, TitleCertificateNumber: u2.title})
		d := e.decide(a)
		if d.Status != mortgage.StatusRegistered {
			t.Fatalf("%s: %s %v, want registered", c.name, d.Status, d.Reasons)
		}
		if d.Fee.AmountFen != c.fen || d.Fee.Cases != c.cases || d.Fee.Basis != mortgage.FeeBasisResidential {
			t.Errorf("%s: fee %+v, want %d fen for %d 件", c.name, d.Fee, c.fen, c.cases)
		}
		var row struct {
			Fen   int64  `db:"amount_fen"`
			Cases int    `db:"cases"`
			Rule  string `db:"rule"`
		}
		if err := e.db.Get(&row, `SELECT amount_fen, cases, rule FROM fees WHERE bundle_id = $1`, d.BundleID); err != nil {
			t.Fatal(err)
		}
		if row.Fen != c.fen || row.Cases != c.cases || row.Rule != mortgage.FeeRuleResidential {
			t.Errorf("%s: fee record %+v", c.name, row)
		}
	}
}

// TestFeeRecordsBeforeTheRuleReadBack: a fee charged before 0017, when the
// mortgagor could be billed, has no 件 count or rule; it reads back as
// stored, counted as the one 件 it was charged as.
func TestFeeRecordsBeforeTheRuleReadBack(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.decide(e.general(e.soleUnit(zhang)))
	e.exec(`UPDATE fees SET payer = 'mortgagor', cases = NULL, rule = NULL WHERE bundle_id = $1`, d.BundleID)
	got, err := e.svc.Bundle(t.Context(), "lj-bank", d.BundleID)
	if err != nil {
		t.Fatal(err)
	}
	if f := got.Fee; f == nil || f.Payer != "mortgagor" || f.AmountFen != 80_00 || f.Cases != 1 || f.Rule != "" {
		t.Errorf("old fee read back as %+v", got.Fee)
	}
}
