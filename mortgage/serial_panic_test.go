package mortgage_test

import (
	"context"
	"testing"

	"mortgaged/mortgage"
)

// TestSerialPanicIsRecorded: a registration that panics after its
// certificate number was drawn rolls back, records the number as a gap and
// passes the panic on; the next registration gets the next number.
func TestSerialPanicIsRecorded(t *testing.T) {
	e := setup(t)
	e.svc.BeforeCommit = func(context.Context) { panic("broke before commit") }
	func() {
		defer func() {
			if p := recover(); p != "broke before commit" {
				t.Fatalf("recovered %v, want the panic passed on", p)
			}
		}()
		_, _ = e.svc.Submit(t.Context(), submitter, e.general(e.soleUnit(zhang)), render)
	}()
	e.svc.BeforeCommit = nil
	if d := e.decide(e.general(e.soleUnit(zhang))); d.Registration.CertificateNumber != serial(2) {
		t.Fatalf("number after a panicked registration %s, want %s", d.Registration.CertificateNumber, serial(2))
	}
	if g := e.gaps(); len(g) != 1 || g[1] != mortgage.GapRolledBack {
		t.Fatalf("gaps %v, want 1 rolled back", g)
	}
	e.explained(2)
}
