package mortgage_test

import (
	"errors"
	"strings"
	"testing"

	"mortgaged/mortgage"
)

// TestUpdateRoutingRule: the domain checks a rule's parameters with
// ParseRoutingParams, stores them as decoded, audits before and after, and
// its own desk uses the new rule at once, with no callback from the console.
func TestUpdateRoutingRule(t *testing.T) {
	e := setup(t)
	big := func() *mortgage.Application {
		a := e.general(e.soleUnit(zhang))
		a.Mortgage.PrincipalFen = 6_000_000_00
		return a
	}
	if d := e.decide(big()); d.Status == mortgage.StatusDesk {
		t.Fatalf("6 million yuan before the change: %s %v", d.Status, d.Reasons) // and the rules are now cached
	}
	for _, bad := range []struct{ kind, params, field string }{
		{"amount_review", `{"above_fen": 500000000}`, "params.above_fen"},
		{"amount_review", `{"aboveFen": 1, "above\u0046en": 2}`, "params.aboveFen"},
		{"amount_review", `{"aboveFen": -1}`, "params.aboveFen"},
		{"no_such_rule", `{}`, "kind"},
	} {
		err := e.svc.UpdateRoutingRule(t.Context(), bad.kind, true, []byte(bad.params), supervisor)
		var ve *mortgage.ValidationError
		if !errors.As(err, &ve) || ve.Issues[0].Field != bad.field {
			t.Errorf("%s %s: %v, want a validation error on %s", bad.kind, bad.params, err, bad.field)
		}
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'routing_rule.update'`); n != 0 {
		t.Fatalf("%d rule changes audited after refusals only", n)
	}
	if err := e.svc.UpdateRoutingRule(t.Context(), "amount_review", true, []byte(` { "aboveFen" : 500000000 } `), supervisor); err != nil {
		t.Fatal(err)
	}
	var params string
	if err := e.db.Get(&params, `SELECT params::text FROM routing_rules WHERE kind = 'amount_review' AND enabled AND updated_by = 'wugang'`); err != nil {
		t.Fatal(err)
	}
	if params != `{"aboveFen": 500000000}` {
		t.Errorf("stored %s", params)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'routing_rule.update' AND actor = 'staff:wugang'
		AND subject = 'routing_rule:amount_review' AND detail->'after'->'params'->>'aboveFen' = '500000000' AND detail->'before' ? 'enabled'`); n != 1 {
		t.Errorf("%d audit records of the change", n)
	}
	if d := e.decide(big()); d.Status != mortgage.StatusDesk {
		t.Errorf("6 million yuan after lowering the threshold to 5 million: %s, want desk", d.Status)
	}
}

// TestLoadCalendarYear: a notice that says a member twice or carries a
// control character is refused with a message naming it; a good one is
// stored and audited, and loading the year again replaces it.
func TestLoadCalendarYear(t *testing.T) {
	e := setup(t)
	for _, bad := range []struct{ notice, says string }{
		{``, "请粘贴或上传"},
		{`{"year": 2027, "year": 2031, "holidays": [], "workdays": []}`, "/year"},
		{`{"year": 2027, "source": "通知\u0000", "holidays": [], "workdays": []}`, "控制字符"},
		{`{"year": 2027, "holidays": [{"from": "2028-01-01", "to": "2028-01-02", "name": "x"}]}`, "校验未通过"},
		// Only 元旦: the six other statutory festivals are named, in order.
		{`{"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知", "holidays": [{"from": "2027-01-01", "to": "2027-01-03", "name": "元旦"}], "workdays": []}`, "缺少法定节日：春节、清明节、劳动节、端午节、中秋节、国庆节"},
	} {
		_, _, err := e.svc.LoadCalendarYear(t.Context(), []byte(bad.notice), supervisor)
		var ve *mortgage.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Issues[0].Message, bad.says) {
			t.Errorf("notice %s: %v, want a message saying %s", bad.notice, err, bad.says)
		}
	}
	notice := notice2027
	for i, wantReplaced := range []bool{false, true} {
		y, replaced, err := e.svc.LoadCalendarYear(t.Context(), []byte(notice), supervisor)
		if err != nil || y.Year != 2027 || len(y.Holidays) != 7 || replaced != wantReplaced {
			t.Errorf("load %d: %d %d holidays, replaced %v, %v", i+1, y.Year, len(y.Holidays), replaced, err)
		}
	}
	years, err := e.svc.CalendarYears(t.Context())
	if err != nil || len(years) != 1 || years[0].Notice.Holidays[0].Name != "元旦" || years[0].LoadedBy != "wugang" {
		t.Errorf("calendar years %+v, %v", years, err)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'calendar.load' AND actor = 'staff:wugang' AND subject = 'calendar:2027'`); n != 2 {
		t.Errorf("%d calendar audit records, want 2", n)
	}
}
