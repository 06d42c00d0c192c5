package mortgage

import (
	"fmt"
	"strings"
)

// StrictRules are demands some centres make that the law does not: each is
// off unless the installation switches it on (MORTGAGED_STRICT_RULES), so by
// default a bank is asked for no more than the law asks (DOMAIN: the centre
// may not ask for documents beyond the law).
type StrictRules struct {
	// CoOwnerNotice: owners of at least two thirds of a unit held in shares
	// (按份共有) must attach proof the other owners were told
	// (coowner_notice). 民法典第三百零一条 asks only for the two thirds.
	CoOwnerNotice bool
	// DebtPeriodEnded: a mortgage whose debt period has already ended is
	// refused (debt_period_ended). The law sets no such bar: a debt past
	// its term may still be secured.
	DebtPeriodEnded bool
	// SeparateMortgageContract: a general mortgage needs a mortgage
	// contract of its own (mortgage_contract). 实施细则第六十六条 accepts the
	// mortgage clause inside the loan contract.
	SeparateMortgageContract bool
	// DebtExtinguishedProof: a cancellation needs proof the debt is
	// extinguished (debt_extinguished_proof) even though the mortgagee,
	// applying alone, thereby gives up its right (民法典第三百九十三条).
	DebtExtinguishedProof bool
}

// strictRuleNames are the names MORTGAGED_STRICT_RULES accepts, in the
// order the README lists them.
var strictRuleNames = []struct {
	name string
	on   func(*StrictRules) *bool
}{
	{"coowner_notice", func(s *StrictRules) *bool { return &s.CoOwnerNotice }},
	{"debt_period_ended", func(s *StrictRules) *bool { return &s.DebtPeriodEnded }},
	{"separate_mortgage_contract", func(s *StrictRules) *bool { return &s.SeparateMortgageContract }},
	{"debt_extinguished_proof", func(s *StrictRules) *bool { return &s.DebtExtinguishedProof }},
}

// StrictRuleNames are the rule names ParseStrictRules accepts.
func StrictRuleNames() []string {
	out := make([]string, len(strictRuleNames))
	for i, r := range strictRuleNames {
		out[i] = r.name
	}
	return out
}

// ParseStrictRules reads a comma-separated list of rule names; "" and
// "none" switch every rule off. An unknown name is an error, so a typo is
// caught at start rather than silently leaving a rule off.
func ParseStrictRules(v string) (StrictRules, error) {
	var s StrictRules
	if v = strings.TrimSpace(v); v == "" || v == "none" {
		return s, nil
	}
next:
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		for _, r := range strictRuleNames {
			if r.name == name {
				*r.on(&s) = true
				continue next
			}
		}
		return StrictRules{}, fmt.Errorf("%q is not a strict rule (known: %s; none for none)", name, strings.Join(StrictRuleNames(), ","))
	}
	return s, nil
}
