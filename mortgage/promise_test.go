package mortgage_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"mortgaged/mortgage"
)

// TestPromiseOfMortgageDocumentsRefused: 容缺受理 is for documents the
// plan names or the centre gets by data sharing; the contracts that prove
// the mortgage cannot be promised by default, whatever the routing rule
// lists, and the fault names the field.
func TestPromiseOfMortgageDocumentsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, kind := range []string{"loan_contract", "mortgage_contract"} {
		a := e.general(e.soleUnit(zhang))
		a.Materials = slices.DeleteFunc(a.Materials, func(m mortgage.Material) bool { return m.Kind == kind })
		a.Promises = []mortgage.Promise{{Kind: kind, DueOn: mortgage.NewDate(2026, 11, 30)}}
		_, err := e.submitAs(submitter, a)
		var ve *mortgage.ValidationError
		if !errors.As(err, &ve) || len(ve.Issues) != 1 || ve.Issues[0].Code != mortgage.CodeNotPromisable || ve.Issues[0].Field != "promises[0].kind" {
			t.Errorf("promising the %s: %v, want document_not_promisable on promises[0].kind", kind, err)
		}
	}
	if n := e.count(`SELECT count(*) FROM bundles`); n != 0 {
		t.Errorf("%d bundles written", n)
	}
	// The plan's own examples may be promised.
	a := e.general(e.soleUnit(zhang))
	a.Promises = []mortgage.Promise{{Kind: "business_licence", DueOn: mortgage.NewDate(2026, 11, 30)}}
	if d := e.decide(a); d.Status != mortgage.StatusDesk {
		t.Errorf("promising the business licence: %s %v, want desk", d.Status, d.Reasons)
	}
}

// TestPromiseDueInWorkingDays: "5 个工作日" ends on the fifth working day,
// Saturdays of service not counted; that day itself is accepted, the next
// is not, and a day already past is refused.
func TestPromiseDueInWorkingDays(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		now  time.Time
		due  mortgage.Date
		want mortgage.Code // "" accepted
	}{
		{"FifthWorkingDay", time.Date(2026, 12, 21, 10, 0, 0, 0, shanghai), mortgage.NewDate(2026, 12, 28), ""},
		{"SixthWorkingDay", time.Date(2026, 12, 21, 10, 0, 0, 0, shanghai), mortgage.NewDate(2026, 12, 29), mortgage.CodePromiseDue},
		{"LastDayFromThursday", testNow, mortgage.NewDate(2026, 12, 3), ""},
		{"AfterLastDayFromThursday", testNow, mortgage.NewDate(2026, 12, 4), mortgage.CodePromiseDue},
		{"Today", testNow, mortgage.NewDate(2026, 11, 26), ""},
		{"Yesterday", testNow, mortgage.NewDate(2026, 11, 25), mortgage.CodePromiseDue},
		{"YesterdayLateEvening", time.Date(2026, 11, 26, 0, 30, 0, 0, shanghai), mortgage.NewDate(2026, 11, 25), mortgage.CodePromiseDue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.now = c.now
			a := e.general(e.soleUnit(zhang))
			a.Promises = []mortgage.Promise{{Kind: "identity_document", DueOn: c.due}}
			out, err := e.submitAs(submitter, a)
			var ve *mortgage.ValidationError
			switch {
			case c.want == "" && err != nil:
				t.Errorf("due %s: %v, want accepted", c.due, err)
			case c.want == "" && out.Decision.Status != mortgage.StatusDesk:
				t.Errorf("due %s: %s, want desk", c.due, out.Decision.Status)
			case c.want != "" && (!errors.As(err, &ve) || !slices.Equal(codes(ve.Issues), []mortgage.Code{c.want}) || ve.Issues[0].Field != "promises[0].dueOn"):
				t.Errorf("due %s: %v, want %s on promises[0].dueOn", c.due, err, c.want)
			}
		})
	}
}

// TestApproveWaitsForNeededPromise: where an installation lets the loan
// contract be promised, the desk still cannot register before it arrives;
// a promised document the centre gets by data sharing does not hold it up.
func TestApproveWaitsForNeededPromise(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.widenPromises("business_licence", "identity_document", "loan_contract")
	a := e.general(e.soleUnit(zhang))
	a.Materials = []mortgage.Material{a.Materials[0], a.Materials[2]}
	a.Promises = []mortgage.Promise{{Kind: "loan_contract", DueOn: mortgage.NewDate(2026, 11, 30)}}
	d := e.decide(a)
	var pe *mortgage.PromiseOpenError
	if _, err := e.svc.Approve(t.Context(), d.BundleID, reviewer); !errors.As(err, &pe) ||
		!slices.Equal(codes(pe.Reasons), []mortgage.Code{mortgage.DeskPromiseOpen}) || pe.Reasons[0].Field != "promises[0]" {
		t.Fatalf("approving with the loan contract owed: %v, want promised_document_open", err)
	}
	if n := e.count(`SELECT count(*) FROM mortgages`); n != 0 {
		t.Errorf("%d mortgages registered while the loan contract is owed", n)
	}
	if _, err := e.svc.SupplyMaterial(t.Context(), "lj-bank", d.BundleID, doc("loan_contract")); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.Approve(t.Context(), d.BundleID, reviewer); err != nil || got.Status != mortgage.StatusRegistered {
		t.Errorf("approving once it arrived: %v", err)
	}

	b := e.general(e.soleUnit(zhang))
	b.Promises = []mortgage.Promise{{Kind: "identity_document", DueOn: mortgage.NewDate(2026, 11, 30)}}
	d = e.decide(b)
	if got, err := e.svc.Approve(t.Context(), d.BundleID, reviewer); err != nil || got.Status != mortgage.StatusRegistered {
		t.Errorf("approving with an identity document owed (the centre gets it by data sharing): %v", err)
	}
}

// TestPromiseDueOnLastDay: the last permitted day is accepted. It used to
// be refused when working and service days agree, because the due date
// (midnight UTC) was compared with the last day at midnight in Shanghai.
func TestPromiseDueOnLastDay(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.exec(`UPDATE routing_rules SET params = '{"allowed": ["business_licence", "identity_document"], "maxWorkingDays": 3}' WHERE kind = 'promised_document'`)
	e.now = time.Date(2026, 11, 30, 10, 0, 0, 0, shanghai) // Monday: three working days are three service days
	a := e.general(e.soleUnit(zhang))
	a.Promises = []mortgage.Promise{{Kind: "identity_document", DueOn: mortgage.NewDate(2026, 12, 3)}}
	if out, err := e.submitAs(submitter, a); err != nil || out.Decision.Status != mortgage.StatusDesk {
		t.Errorf("due on the third working day: %v, want accepted at the desk", err)
	}
}

// TestPromiseRuleWithinConfiguredList: the shipped rule lists only what may
// be promised by default, and a supervisor cannot widen it beyond the
// configured list from the console.
func TestPromiseRuleWithinConfiguredList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var allowed string
	if err := e.db.Get(&allowed, `SELECT params->>'allowed' FROM routing_rules WHERE kind = 'promised_document'`); err != nil {
		t.Fatal(err)
	}
	if allowed != `["business_licence", "identity_document"]` {
		t.Errorf("shipped rule allows %s, want the business licence and identity documents only", allowed)
	}
	rule := []byte(`{"allowed": ["identity_document", "loan_contract"], "maxWorkingDays": 5}`)
	err := e.svc.UpdateRoutingRule(t.Context(), "promised_document", true, rule, supervisor)
	var ve *mortgage.ValidationError
	if !errors.As(err, &ve) || len(ve.Issues) != 1 || ve.Issues[0].Field != "params.allowed[1]" || ve.Issues[0].Code != mortgage.CodeNotPromisable {
		t.Errorf("allowing the loan contract: %v, want document_not_promisable on params.allowed[1]", err)
	}
	e.svc.Config.Promisable = []string{"identity_document", "loan_contract"} // a local list wider than the default
	if err := e.svc.UpdateRoutingRule(t.Context(), "promised_document", true, rule, supervisor); err != nil {
		t.Errorf("allowing the loan contract where the configuration lists it: %v", err)
	}
}

// widenPromises is a local list of promisable documents wider than the
// default, configured and allowed by the routing rule.
func (e *env) widenPromises(kinds ...string) {
	e.t.Helper()
	e.svc.Config.Promisable = kinds
	allowed, _ := json.Marshal(kinds)
	e.exec(`UPDATE routing_rules SET params = jsonb_set(params, '{allowed}', $1::jsonb) WHERE kind = 'promised_document'`, string(allowed))
	e.svc.InvalidateRouting()
}
