package mortgage_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"mortgaged/mortgage"
)

// failKey marks a submission whose transaction fails after the
// certificate's number was drawn: its BeforeCommit cancels the context.
type failKey struct{}

func failAfterDraw(e *env) {
	e.svc.BeforeCommit = func(ctx context.Context) {
		if cancel, ok := ctx.Value(failKey{}).(context.CancelFunc); ok {
			cancel()
		}
	}
}

func (e *env) submitFailing(a *mortgage.Application) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := e.svc.Submit(context.WithValue(ctx, failKey{}, cancel), submitter, a, render)
	return err
}

func (e *env) certificateNumbers() []string {
	e.t.Helper()
	var numbers []string
	if err := e.db.Select(&numbers, `SELECT certificate_number FROM mortgages ORDER BY certificate_number`); err != nil {
		e.t.Fatal(err)
	}
	return numbers
}

func serial(n int) string { return fmt.Sprintf("黑(2026)齐齐哈尔市不动产证明第%07d号", n) }

// TestSerialRollbackLeavesNoGap: a registration that fails after its
// certificate number was drawn gives the number back; the next one gets it.
func TestSerialRollbackLeavesNoGap(t *testing.T) {
	e := setup(t)
	failAfterDraw(e)
	if d := e.decide(general(e.soleUnit(zhang))); d.Registration.CertificateNumber != serial(1) {
		t.Fatalf("first number %s", d.Registration.CertificateNumber)
	}
	if err := e.submitFailing(general(e.soleUnit(zhang))); err == nil {
		t.Fatal("a submission cancelled before commit succeeded")
	}
	d := e.decide(general(e.soleUnit(zhang)))
	if got := d.Registration.CertificateNumber; got != serial(2) {
		t.Fatalf("number after a rolled-back registration %s, want %s (no gap)", got, serial(2))
	}
	// The number is in the signed certificate and the stored row alike.
	c, err := e.svc.Certificate(t.Context(), "lj-bank", serial(2))
	if err != nil {
		t.Fatal(err)
	}
	if c.Number != serial(2) || !bytes.Contains(c.JSON, []byte(serial(2))) || !bytes.Contains(c.XML, []byte(serial(2))) {
		t.Errorf("certificate %s does not carry its number in both renderings", c.Number)
	}
	if n := e.count(`SELECT count(*) FROM mortgages WHERE certificate_number IS NULL`); n != 0 {
		t.Errorf("%d mortgages without a number", n)
	}
}

// TestConcurrentSerialsGapFree: registrations racing, some failing after
// the draw, get distinct numbers 1..n for the n that commit.
func TestConcurrentSerialsGapFree(t *testing.T) {
	e := setup(t)
	failAfterDraw(e)
	const n = 16
	apps := make([]*mortgage.Application, n)
	for i := range apps {
		apps[i] = general(e.soleUnit(zhang))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			if i%3 == 0 {
				errs[i] = e.submitFailing(apps[i])
			} else {
				_, errs[i] = e.submitAs(submitter, apps[i])
			}
		})
	}
	wg.Wait()
	committed := 0
	for i, err := range errs {
		switch {
		case i%3 == 0 && err == nil:
			t.Errorf("submission %d cancelled before commit succeeded", i)
		case i%3 != 0 && err != nil:
			t.Fatalf("submission %d: %v", i, err)
		case err == nil:
			committed++
		}
	}
	numbers := e.certificateNumbers()
	if len(numbers) != committed {
		t.Fatalf("%d numbers for %d registrations", len(numbers), committed)
	}
	for i, num := range numbers {
		if num != serial(i+1) {
			t.Fatalf("numbers %v, want 1..%d without gaps", numbers, committed)
		}
	}
}

// TestSerialCounterStartsAfterTheRegister: the first draw of a year starts
// after the highest number of that year already in the register, imported
// ones included, whatever the width of their brackets.
func TestSerialCounterStartsAfterTheRegister(t *testing.T) {
	e := setup(t)
	for _, n := range []string{"黑（2026）齐齐哈尔市不动产证明第0000041号", "黑(2025)齐齐哈尔市不动产证明第0000900号"} {
		e.exec(`INSERT INTO mortgages (certificate_number, kind, collateral_kind, principal_fen, debt_start, debt_end, scope,
				transfer_restricted, mortgagors, debtors, mortgagee_name, mortgagee_id_number, registered_at, recording_officer)
			VALUES ($1, 'general', '2', 100, '2020-01-01', '2040-01-01', '主债权', false, '[]', '[]', $2, $3, now(), '导入')`,
			n, bank.Name, bankCode)
	}
	if got := e.decide(general(e.soleUnit(zhang))).Registration.CertificateNumber; got != serial(42) {
		t.Errorf("first number drawn in 2026: %s, want %s", got, serial(42))
	}
}
