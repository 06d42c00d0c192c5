package mortgage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"mortgaged/internal/testwait"
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

// gaps is the recorded gaps of 2026 as serial → reason.
func (e *env) gaps() map[int]string {
	e.t.Helper()
	var rows []struct {
		Serial int    `db:"serial"`
		Reason string `db:"reason"`
	}
	if err := e.db.Select(&rows, `SELECT serial, reason FROM certificate_serial_gaps WHERE year = 2026`); err != nil {
		e.t.Fatal(err)
	}
	out := map[int]string{}
	for _, r := range rows {
		out[r.Serial] = r.Reason
	}
	return out
}

// explained checks that serials 1..top are each on exactly one certificate
// or recorded as a gap, never both.
func (e *env) explained(top int) {
	e.t.Helper()
	issued := map[string]bool{}
	for _, n := range e.certificateNumbers() {
		if issued[n] {
			e.t.Fatalf("number %s issued twice", n)
		}
		issued[n] = true
	}
	gaps := e.gaps()
	for i := 1; i <= top; i++ {
		_, gap := gaps[i]
		if issued[serial(i)] == gap {
			e.t.Fatalf("serial %d: on a certificate %v, recorded as a gap %v; want exactly one (gaps %v)", i, issued[serial(i)], gap, gaps)
		}
	}
	if len(issued)+len(gaps) != top {
		e.t.Fatalf("%d certificates and %d gaps, want %d serials in all", len(issued), len(gaps), top)
	}
}

// TestSerialRollbackIsRecorded: a registration that fails after its
// certificate number was drawn leaves that number recorded, with its
// reason; the next registration gets the next number.
func TestSerialRollbackIsRecorded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	failAfterDraw(e)
	if d := e.decide(e.general(e.soleUnit(zhang))); d.Registration.CertificateNumber != serial(1) {
		t.Fatalf("first number %s", d.Registration.CertificateNumber)
	}
	if err := e.submitFailing(e.general(e.soleUnit(zhang))); err == nil {
		t.Fatal("a submission cancelled before commit succeeded")
	}
	// A renderer that fails after the draw rolls the transaction back too.
	failRender := func(*mortgage.Decision) (mortgage.Answer, error) {
		return mortgage.Answer{}, errors.New("renderer broke")
	}
	if _, err := e.svc.Submit(t.Context(), submitter, e.general(e.soleUnit(zhang)), failRender); err == nil {
		t.Fatal("a submission whose answer could not be rendered succeeded")
	}
	d := e.decide(e.general(e.soleUnit(zhang)))
	if got := d.Registration.CertificateNumber; got != serial(4) {
		t.Fatalf("number after two rolled-back registrations %s, want %s", got, serial(4))
	}
	if g := e.gaps(); len(g) != 2 || g[2] != mortgage.GapRolledBack || g[3] != mortgage.GapRolledBack {
		t.Fatalf("gaps %v, want 2 and 3 rolled back", g)
	}
	e.explained(4)
	// The number is in the signed certificate and the stored row alike.
	c, err := e.svc.Certificate(t.Context(), "lj-bank", serial(4))
	if err != nil {
		t.Fatal(err)
	}
	if c.Number != serial(4) || !bytes.Contains(c.JSON, []byte(serial(4))) || !bytes.Contains(c.XML, []byte(serial(4))) {
		t.Errorf("certificate %s does not carry its number in both renderings", c.Number)
	}
	if n := e.count(`SELECT count(*) FROM mortgages WHERE certificate_number IS NULL`); n != 0 {
		t.Errorf("%d mortgages without a number", n)
	}
	// Reconciliation finds nothing more to explain.
	if n, err := e.svc.ReconcileSerials(t.Context()); err != nil || n != 0 {
		t.Errorf("reconcile recorded %d (%v), want 0", n, err)
	}
}

// TestConcurrentSerialsExplained: registrations racing, some failing after
// the draw, get distinct numbers, and every number up to the highest is on
// a certificate or recorded as rolled back.
func TestConcurrentSerialsExplained(t *testing.T) {
	t.Parallel()
	e := setup(t)
	failAfterDraw(e)
	const n = 16
	apps := make([]*mortgage.Application, n)
	for i := range apps {
		apps[i] = e.general(e.soleUnit(zhang))
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
	if numbers := e.certificateNumbers(); len(numbers) != committed {
		t.Fatalf("%d numbers for %d registrations", len(numbers), committed)
	}
	e.explained(n)
}

// TestReconcileRecordsSerialsOfLostTransactions: a number drawn by a
// transaction that ended without the server saying so (a killed process)
// is recorded as not committed once every transaction open at the look
// has ended; one still open is waited for, never guessed.
func TestReconcileRecordsSerialsOfLostTransactions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.decide(e.general(e.soleUnit(zhang))) // serial 1, and the year's sequence
	draw := `SELECT next_certificate_serial('齐齐哈尔市不动产登记中心', 2026)`
	var lost int
	if err := e.db.Get(&lost, draw); err != nil { // drawn, never used: as if the process died
		t.Fatal(err)
	}
	open, err := e.db.Beginx() // a transaction still running when reconciliation looks
	if err != nil {
		t.Fatal(err)
	}
	var inFlight int
	if err := open.Get(&inFlight, draw); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var recorded int64
	go func() {
		var err error
		recorded, err = e.svc.ReconcileSerials(context.Background())
		done <- err
	}()
	// Reconciliation cannot finish while the older transaction is open:
	// it has looked at the sequence once that transaction is waited for.
	testwait.For(t, func() error {
		var waiting bool
		if err := e.db.Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE '%xact_start <%' AND pid <> pg_backend_pid())`); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("reconciliation ended (%v) while a transaction that drew %d was open", err, inFlight)
		default:
		}
		if !waiting {
			return errors.New("reconciliation is not yet waiting for the open transaction")
		}
		return nil
	})
	if err := open.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if g := e.gaps(); recorded != 2 || g[lost] != mortgage.GapNotCommitted || g[inFlight] != mortgage.GapNotCommitted {
		t.Fatalf("recorded %d, gaps %v; want %d and %d not committed", recorded, g, lost, inFlight)
	}
	d := e.decide(e.general(e.soleUnit(zhang)))
	if d.Registration.CertificateNumber != serial(4) {
		t.Errorf("next number %s, want %s", d.Registration.CertificateNumber, serial(4))
	}
	e.explained(4)
	if n, err := e.svc.ReconcileSerials(t.Context()); err != nil || n != 0 {
		t.Errorf("a second reconciliation recorded %d (%v), want 0", n, err)
	}
}

// TestSerialCounterStartsAfterTheRegister: the first draw of a year starts
// after the highest number of that year already in the register, imported
// ones included, whatever the width of their brackets.
func TestSerialCounterStartsAfterTheRegister(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, n := range []string{"黑（2026）齐齐哈尔市不动产证明第0000041号", "黑(2025)齐齐哈尔市不动产证明第0000900号"} {
		e.exec(`INSERT INTO mortgages (certificate_number, kind, collateral_kind, principal_fen, debt_start, debt_end, scope,
				transfer_restricted, mortgagors, debtors, mortgagee_name, mortgagee_id_number, registered_at, recording_officer)
			VALUES ($1, 'general', '2', 100, '2020-01-01', '2040-01-01', '主债权', false, '[]', '[]', $2, $3, now(), '导入')`,
			n, bank.Name, bankCode)
	}
	if got := e.decide(e.general(e.soleUnit(zhang))).Registration.CertificateNumber; got != serial(42) {
		t.Errorf("first number drawn in 2026: %s, want %s", got, serial(42))
	}
}
