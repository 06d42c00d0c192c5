package mortgage_test

import (
	"errors"
	"testing"
	"time"

	"mortgaged/mortgage"
)

// TestBundlePage: the console's bundle page reads the bundle, its
// documents and history, and the register beside it with only the
// restrictions current on the day (migration 0015's definition).
func TestBundlePage(t *testing.T) {
	e := setup(t)
	d := deskBundle(t, e)
	var unit string
	if err := e.db.Get(&unit, `SELECT application->'units'->0->>'unitNumber' FROM bundles WHERE id = $1`, d.BundleID); err != nil {
		t.Fatal(err)
	}
	e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from, seized_until, lifted_at) VALUES
		($1, '龙沙区人民法院', '(2026)黑0202执1号', '2026-11-26', NULL, NULL),
		($1, '龙沙区人民法院', '(2025)黑0202执2号', '2025-01-05', NULL, '2026-03-01')`, unit)
	e.exec(`INSERT INTO objections (unit_number, applicant, matter, registered_on, expires_on) VALUES
		($1, '李四', '权属争议', '2026-10-01', '2026-10-16')`, unit)
	p, err := e.svc.BundlePage(t.Context(), d.BundleID, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if p.B.Status != "desk" || p.App.Reference == "" || len(p.DeskReasons) != 1 || len(p.Materials) != 3 || len(p.History) == 0 {
		t.Errorf("page %+v", p)
	}
	if len(p.Units) != 1 {
		t.Fatalf("%d units", len(p.Units))
	}
	u := p.Units[0]
	if !u.Found || len(u.Owners) != 1 || len(u.Seizures) != 1 || len(u.Objections) != 0 || len(u.Prereg) != 0 || !u.Restricted() {
		t.Errorf("excerpt %+v", u)
	}
	m, err := e.svc.MaterialFile(t.Context(), d.BundleID, p.Materials[0].Seq)
	if err != nil || m.MediaType != "application/pdf" || len(m.Content) != int(p.Materials[0].Size) {
		t.Errorf("material: %+v, %v", m, err)
	}
	if status, by, err := e.svc.BundleOutcome(t.Context(), d.BundleID); status != "desk" || by != "" || err != nil {
		t.Errorf("outcome %s %q %v", status, by, err)
	}
	for name, err := range map[string]error{
		"page":     func() error { _, err := e.svc.BundlePage(t.Context(), "nope", time.Now()); return err }(),
		"material": func() error { _, err := e.svc.MaterialFile(t.Context(), d.BundleID, 99); return err }(),
		"outcome":  func() error { _, _, err := e.svc.BundleOutcome(t.Context(), "nope"); return err }(),
	} {
		if !errors.Is(err, mortgage.ErrNotFound) {
			t.Errorf("%s of nothing: %v, want ErrNotFound", name, err)
		}
	}
}
