package mortgage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PromiseItem is a document promised under 容缺受理, as the console's
// promises page lists it.
type PromiseItem struct {
	BundleID     string
	PartnerName  string
	Reference    string
	Status       string
	Kind         string
	DueOn        time.Time
	FulfilledAt  sql.NullTime
	AssignedName sql.NullString
	Overdue      bool
}

// PromiseList is the promises still owed, or the kept ones, with the counts
// of those owed.
type PromiseList struct {
	Items         []PromiseItem
	Open, Overdue int // promises owed; of those, past their due date
}

// Promises lists the promises still owed on today (fulfilled false), or the
// most recently kept ones (true).
func (s *Service) Promises(ctx context.Context, today time.Time, fulfilled bool) (*PromiseList, error) {
	show := "open"
	if fulfilled {
		show = "fulfilled"
	}
	var l PromiseList
	st := s.store()
	rows, err := st.Promises(ctx, today, show)
	if err != nil {
		return nil, fmt.Errorf("promises: %w", err)
	}
	for _, r := range rows {
		l.Items = append(l.Items, PromiseItem(r))
	}
	if l.Open, l.Overdue, err = st.PromiseCounts(ctx, today); err != nil {
		return nil, fmt.Errorf("promise counts: %w", err)
	}
	return &l, nil
}
