package mortgage_test

import (
	"testing"
	"time"

	"mortgaged/mortgage"
)

// TestQueue: the console's queue lists the bundles at the desk with their
// reasons, finds any bundle by id or reference, and counts the desk.
func TestQueue(t *testing.T) {
	e := setup(t)
	desk := deskBundle(t, e)
	registered := e.decide(e.general(e.soleUnit(zhang)))
	q, err := e.svc.Queue(t.Context(), mortgage.QueueFilter{State: "desk", Officer: "liuyang", Limit: 200}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Items) != 1 || q.Items[0].ID != desk.BundleID || q.Items[0].PartnerName != bank.Name ||
		len(q.Items[0].Reasons) != 1 || q.Items[0].Reasons[0].Code != mortgage.DeskNameNearMatch {
		t.Errorf("desk queue %+v", q.Items)
	}
	if q.AtDesk != 1 || q.Overdue != 0 || q.Mine != 0 {
		t.Errorf("counts: %d at the desk, %d overdue, %d mine", q.AtDesk, q.Overdue, q.Mine)
	}
	if len(q.Reasons) != 1 || q.Reasons[0].Code != string(mortgage.DeskNameNearMatch) {
		t.Errorf("reason codes in use %+v", q.Reasons)
	}
	// A decision that never went to the desk is not in the registered list,
	// but a search finds it.
	if q, err := e.svc.Queue(t.Context(), mortgage.QueueFilter{State: "registered", Limit: 200}, testNow); err != nil || len(q.Items) != 0 {
		t.Errorf("registered queue %+v, %v", q, err)
	}
	if q, err := e.svc.Queue(t.Context(), mortgage.QueueFilter{State: "desk", Query: registered.BundleID, Limit: 200}, testNow); err != nil || len(q.Items) != 1 {
		t.Errorf("search for %s: %+v, %v", registered.BundleID, q, err)
	}
	if q, err := e.svc.Queue(t.Context(), mortgage.QueueFilter{State: "desk", Limit: 200}, testNow.Add(30*24*time.Hour)); err != nil || q.Overdue != 1 {
		t.Errorf("a month later: %+v, %v, want it overdue", q, err)
	}
	ps, err := e.svc.PartnerNames(t.Context())
	if err != nil || len(ps) != 2 {
		t.Errorf("partners %+v, %v", ps, err)
	}
}

// TestPromises: a promised document is listed as owed until it comes,
// and overdue after its due date.
func TestPromises(t *testing.T) {
	e := setup(t)
	a := e.general(e.soleUnit(zhang))
	a.Promises = []mortgage.Promise{{Kind: "identity_document", DueOn: mortgage.NewDate(2026, 11, 30)}}
	d := e.decide(a)
	day := func(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC) }
	l, err := e.svc.Promises(t.Context(), day(2026, 11, 26), false)
	if err != nil || len(l.Items) != 1 || l.Items[0].BundleID != d.BundleID || l.Items[0].Overdue || l.Open != 1 || l.Overdue != 0 {
		t.Errorf("promises on the day: %+v, %v", l, err)
	}
	if l, err := e.svc.Promises(t.Context(), day(2026, 12, 1), false); err != nil || !l.Items[0].Overdue || l.Overdue != 1 {
		t.Errorf("promises after the due date: %+v, %v", l, err)
	}
	if l, err := e.svc.Promises(t.Context(), day(2026, 12, 1), true); err != nil || len(l.Items) != 0 {
		t.Errorf("kept promises: %+v, %v", l, err)
	}
}

// TestDashboard counts the bundles received in a period, in business time.
func TestDashboard(t *testing.T) {
	e := setup(t)
	deskBundle(t, e)
	e.decide(e.general(e.soleUnit(zhang)))
	today := time.Date(2026, 11, 26, 0, 0, 0, 0, shanghai)
	d, err := e.svc.Dashboard(t.Context(), today, today.AddDate(0, 0, -6), today.AddDate(0, 0, 1), shanghai)
	if err != nil {
		t.Fatal(err)
	}
	if d.Today.Received != 2 || d.Today.Desk != 1 || d.Today.Registered != 1 || d.Today.SameDay != 1 || d.Period != d.Today {
		t.Errorf("today %+v, period %+v", d.Today, d.Period)
	}
	if len(d.Partners) != 1 || d.Partners[0].Received != 2 || len(d.DeskReasons) != 1 || len(d.Days) != 1 || len(d.Oldest) != 1 {
		t.Errorf("dashboard %+v", d)
	}
	if d, err := e.svc.Dashboard(t.Context(), today.AddDate(0, 0, 1), today.AddDate(0, 0, 1), today.AddDate(0, 0, 2), shanghai); err != nil || d.Today.Received != 0 {
		t.Errorf("the next day: %+v, %v", d, err)
	}
}

// TestSameDayRate: 当日办结率 is decided on the day received (or by the
// same-day deadline) over every bundle received, open, late and withdrawn
// ones included (DOMAIN.md "Promises, statistics, rating").
func TestSameDayRate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.decide(e.general(e.soleUnit(zhang))) // registered at once, Thursday
	deskBundle(t, e)                       // still at the desk
	late := deskBundle(t, e)               // approved the next day
	withdrawn := deskBundle(t, e)          // withdrawn by the bank: not 办结 by the centre
	if _, err := e.svc.Withdraw(t.Context(), "lj-bank", withdrawn.BundleID); err != nil {
		t.Fatal(err)
	}
	e.now = time.Date(2026, 11, 27, 16, 30, 0, 0, shanghai) // Friday after the cut-off
	afterCutOff := deskBundle(t, e)
	e.now = time.Date(2026, 11, 27, 10, 0, 0, 0, shanghai)
	if _, err := e.svc.Approve(t.Context(), late.BundleID, reviewer); err != nil {
		t.Fatal(err)
	}
	e.now = time.Date(2026, 11, 28, 10, 0, 0, 0, shanghai) // Saturday, by its deadline
	if _, err := e.svc.Refuse(t.Context(), afterCutOff.BundleID, reviewer, []mortgage.Code{"identity_not_confirmed"}, ""); err != nil {
		t.Fatal(err)
	}
	today := time.Date(2026, 11, 26, 0, 0, 0, 0, shanghai)
	d, err := e.svc.Dashboard(t.Context(), today, today, today.AddDate(0, 0, 3), shanghai)
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Today; c.Received != 4 || c.SameDay != 1 || c.Desk != 1 || c.SameDayShare() != 25 {
		t.Errorf("Thursday %+v: 当日办结率 %.1f%%, want 1 of 4", c, c.SameDayShare())
	}
	if c := d.Period; c.Received != 5 || c.SameDay != 2 || c.SameDayShare() != 40 {
		t.Errorf("period %+v: 当日办结率 %.1f%%, want 2 of 5", c, c.SameDayShare())
	}
}
