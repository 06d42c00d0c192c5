package mortgage

import (
	"context"
	"fmt"
	"strings"
)

// Mortgagee is a name and unified social credit code a partner may register
// mortgages under: its own, or a branch's the administrator listed for it
// (PROMISES S8). The provident fund centre is the mortgagee of its own loans.
type Mortgagee struct {
	Name       string `json:"name"`
	CreditCode string `json:"creditCode"`
}

// PartnerMortgagees returns the identities a partner may name as mortgagee,
// its own first.
func (s *Service) PartnerMortgagees(ctx context.Context, partnerID string) ([]Mortgagee, error) {
	rows, err := s.store().PartnerMortgagees(ctx, partnerID)
	if err != nil {
		return nil, fmt.Errorf("read mortgagees of %s: %w", partnerID, err)
	}
	ms := make([]Mortgagee, len(rows)) // none listed: nothing is allowed, rather than nothing checked
	for i, r := range rows {
		ms[i] = Mortgagee{Name: r.Name, CreditCode: r.CreditCode}
	}
	return ms, nil
}

// withMortgagees fills in the submitter's identities when the caller did
// not bring them (the partner API brings them from authentication).
func (s *Service) withMortgagees(ctx context.Context, sub Submitter) (Submitter, error) {
	if sub.Mortgagees != nil {
		return sub, nil
	}
	ms, err := s.PartnerMortgagees(ctx, sub.PartnerID)
	if err != nil {
		return sub, err
	}
	sub.Mortgagees = ms
	return sub, nil
}

// holds reports whether the partner holds mortgages registered under the
// credit code: its own, or one of its branches'.
func (sub Submitter) holds(code string) bool {
	code = strings.TrimSpace(code)
	if code == sub.CreditCode {
		return true
	}
	for _, m := range sub.Mortgagees {
		if m.CreditCode == code {
			return true
		}
	}
	return false
}
