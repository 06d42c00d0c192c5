package mortgage_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"mortgaged/mortgage"
)

// TestParseRoutingParams: rule parameters are decoded strictly; a typo is
// an error naming the member, never a setting of zero.
func TestParseRoutingParams(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, kind, params string
		want               any    // the parameters, when valid
		field              string // the first fault's field, when not
	}{
		{"OKAmount", "amount_review", `{"aboveFen": 500000000}`, mortgage.AmountReviewParams{AboveFen: 500000000}, ""},
		{"OKPromise", "promised_document", `{"allowed": ["loan_contract"], "maxWorkingDays": 5}`,
			mortgage.PromisedDocumentParams{Allowed: []string{"loan_contract"}, MaxWorkingDays: 5}, ""},
		{"OKNoParams", "name_near_match", `{}`, nil, ""},
		{"ErrSnakeCase", "amount_review", `{"above_fen": 500000000}`, nil, "params.above_fen"},
		{"ErrCaseVariant", "amount_review", `{"AboveFen": 500000000}`, nil, "params.AboveFen"},
		{"ErrDuplicate", "amount_review", `{"aboveFen": 500000000, "aboveFen": 1}`, nil, "params.aboveFen"},
		{"ErrMissing", "amount_review", `{}`, nil, "params.aboveFen"},
		{"ErrZero", "amount_review", `{"aboveFen": 0}`, nil, "params.aboveFen"},
		{"ErrNegative", "amount_review", `{"aboveFen": -1}`, nil, "params.aboveFen"},
		{"ErrString", "amount_review", `{"aboveFen": "5"}`, nil, "params.aboveFen"},
		{"ErrNotObject", "amount_review", `[]`, nil, "params"},
		{"ErrDaysTypo", "promised_document", `{"allowed": [], "maxWorkingdays": 5}`, nil, "params.maxWorkingdays"},
		{"ErrDaysRange", "promised_document", `{"allowed": [], "maxWorkingDays": 31}`, nil, "params.maxWorkingDays"},
		{"ErrKind", "promised_document", `{"allowed": ["x"], "maxWorkingDays": 5}`, nil, "params.allowed[0]"},
		{"ErrParamOnSwitch", "old_id_number", `{"on": true}`, nil, "params.on"},
		{"ErrUnknownRule", "coin_toss", `{}`, nil, "kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := mortgage.ParseRoutingParams(c.kind, []byte(c.params))
			if c.field == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if p, ok := got.(mortgage.PromisedDocumentParams); ok {
					w := c.want.(mortgage.PromisedDocumentParams)
					if !slices.Equal(p.Allowed, w.Allowed) || p.MaxWorkingDays != w.MaxWorkingDays {
						t.Errorf("params %+v, want %+v", p, w)
					}
				} else if got != c.want {
					t.Errorf("params %+v, want %+v", got, c.want)
				}
				return
			}
			var ve *mortgage.ValidationError
			if !errors.As(err, &ve) || ve.Issues[0].Field != c.field || ve.Issues[0].Message == "" {
				t.Fatalf("params %+v, error %v, want a fault on %s", got, err, c.field)
			}
		})
	}
}

// TestRoutingRulesLoadStrictly: a rule stored with a misspelt parameter
// stops decisions with an error naming it, instead of a threshold of 0
// sending every bundle to the desk.
func TestRoutingRulesLoadStrictly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.exec(`UPDATE routing_rules SET params = '{"above_fen": 500000000}' WHERE kind = 'amount_review'`)
	_, err := e.submitAs(submitter, e.general(e.soleUnit(zhang)))
	var ve *mortgage.ValidationError
	if err == nil || errors.As(err, &ve) || !strings.Contains(err.Error(), "amount_review: params.above_fen") {
		t.Fatalf("submit under a misspelt rule: %v, want an internal error naming params.above_fen", err)
	}
	if n := e.count(`SELECT count(*) FROM bundles`); n != 0 {
		t.Errorf("%d bundles written", n)
	}
}
