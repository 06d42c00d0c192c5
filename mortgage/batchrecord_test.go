package mortgage_test

import (
	"crypto/sha256"
	"errors"
	"io"
	"slices"
	"testing"

	"mortgaged/mortgage"
)

// fundCentre is the provident fund centre, the mortgagee of its own loans.
var fundCentre = mortgage.Party{Name: "齐齐哈尔市住房公积金管理中心", IDType: mortgage.IDCreditCode, IDNumber: creditCode("12230200MB1GJJ001")}

var gjj = mortgage.Submitter{PartnerID: "gjj", CreditCode: fundCentre.IDNumber}

// fundLoan is the fund centre's record (or bundle) YWH for unit u.
func fundLoan(u unit, ywh string) *mortgage.Application {
	a := newGeneral(ywh, u)
	a.Mortgagee = fundCentre
	return a
}

// runBatch uploads a batch of the fund centre's records and decides it, as
// the batch worker does after an upload; the decoder hands over the
// applications as the file format's decoder would.
func (e *env) runBatch(number string, apps ...*mortgage.Application) []mortgage.BatchRecord {
	e.t.Helper()
	ctx := e.t.Context()
	up, err := e.svc.NewBatchUpload(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := up.Write([]byte(number)); err != nil {
		e.t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(number))
	b, created, err := up.Commit("gjj", mortgage.BatchHeader{Number: number, Date: mortgage.NewDate(2026, 11, 26), Records: len(apps)}, sum[:])
	if err != nil || !created {
		e.t.Fatalf("batch %s: created %v, %v", number, created, err)
	}
	w := &mortgage.BatchWorker{Service: e.svc, Node: "test", Decode: func(r io.Reader, fn func(mortgage.BatchItem) error) error {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		for i, a := range apps {
			if err := fn(mortgage.BatchItem{Index: i, Reference: a.Reference, Application: a}); err != nil {
				return err
			}
		}
		return nil
	}}
	if worked, err := w.RunOnce(ctx); !worked || err != nil {
		e.t.Fatalf("batch %s: worked %v, %v", number, worked, err)
	}
	recs, err := e.svc.BatchRecords(ctx, "gjj", b.ID, -1, 100)
	if err != nil || len(recs) != len(apps) {
		e.t.Fatalf("batch %s: %d records, %v", number, len(recs), err)
	}
	return recs
}

// TestBatchRecordRegistersOnce: a record's own reference (YWH) is unique
// per partner across batches and single bundles, like a bundle's (S2/S3).
func TestBatchRecordRegistersOnce(t *testing.T) {
	e := setup(t)
	e.exec(`INSERT INTO partners (id, kind, name, credit_code) VALUES ('gjj', 'fund_centre', $1, $2)`, fundCentre.Name, fundCentre.IDNumber)
	u := e.soleUnit(zhang)
	first := e.runBatch("GJJ-20261126-001", fundLoan(u, "YWH-0001"))[0]
	if first.Status != mortgage.StatusRegistered {
		t.Fatalf("first batch: %+v, want registered", first)
	}

	t.Run("SameRecordInAnotherBatch", func(t *testing.T) {
		again := e.runBatch("GJJ-20261127-001", fundLoan(u, "YWH-0001"))[0]
		if again.Status != mortgage.StatusRegistered || again.BundleID != first.BundleID || again.CertificateNumber != first.CertificateNumber {
			t.Errorf("resent record: %+v, want the first decision %s %s", again, first.BundleID, first.CertificateNumber)
		}
		if n := e.count(`SELECT count(*) FROM mortgage_units WHERE unit_number = $1`, u.number); n != 1 {
			t.Errorf("%d mortgages on the unit, want 1 (registered once)", n)
		}
	})
	t.Run("ErrSameReferenceOtherContent", func(t *testing.T) {
		other := fundLoan(e.soleUnit(li), "YWH-0001")
		rec := e.runBatch("GJJ-20261127-002", other)[0]
		if rec.Status != mortgage.StatusRejected || rec.BundleID != "" ||
			!slices.ContainsFunc(rec.Reasons, func(i mortgage.Issue) bool { return i.Field == "reference" && i.Code == "reference_conflict" }) {
			t.Errorf("reused YWH with other content: %+v, want refused with reference_conflict", rec)
		}
		if n := e.count(`SELECT count(*) FROM mortgages`); n != 1 {
			t.Errorf("%d mortgages, want 1", n)
		}
	})
	t.Run("SingleBundleWithTheRecordsReference", func(t *testing.T) {
		out, err := e.svc.Submit(t.Context(), gjj, fundLoan(u, "YWH-0001"), render)
		if err != nil || !out.Replayed || out.BundleID != first.BundleID {
			t.Errorf("same content as a single bundle: %+v %v, want the record's first decision replayed", out, err)
		}
		_, err = e.svc.Submit(t.Context(), gjj, fundLoan(e.soleUnit(wang), "YWH-0001"), render)
		var ce *mortgage.ConflictError
		if !errors.As(err, &ce) || ce.BundleID != first.BundleID {
			t.Errorf("other content as a single bundle: %v, want a conflict naming %s", err, first.BundleID)
		}
	})
	t.Run("RecordWithASingleBundlesReference", func(t *testing.T) {
		single := fundLoan(e.soleUnit(wang), "YWH-0002")
		out, err := e.svc.Submit(t.Context(), gjj, single, render)
		if err != nil || out.Decision.Status != mortgage.StatusRegistered {
			t.Fatalf("single bundle: %+v %v", out, err)
		}
		rec := e.runBatch("GJJ-20261127-003", fundLoan(unit{number: single.Units[0].UnitNumber, title: single.Units[0].TitleCertificateNumber, owners: []owner{{party: wang}}}, "YWH-0002"))[0]
		if rec.BundleID != out.Decision.BundleID || rec.CertificateNumber != out.Decision.Registration.CertificateNumber {
			t.Errorf("record resending a single bundle: %+v, want its decision %s", rec, out.Decision.BundleID)
		}
	})
	t.Run("ErrHashOnSingleBundle", func(t *testing.T) {
		_, err := e.svc.Submit(t.Context(), gjj, fundLoan(e.soleUnit(wang), "GJJ-20261126-001#1"), render)
		var ve *mortgage.ValidationError
		if !errors.As(err, &ve) || !slices.Equal(codes(ve.Issues), []mortgage.Code{mortgage.CodeReferenceFormat}) {
			t.Errorf("single bundle with a batch record's reference: %v, want reference_format", err)
		}
	})
	if n := e.count(`SELECT count(*) FROM mortgages`); n != 2 {
		t.Errorf("%d mortgages, want 2", n)
	}
}
