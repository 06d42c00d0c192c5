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
	BundleID     string         `db:"bundle_id"`
	PartnerName  string         `db:"partner_name"`
	Reference    string         `db:"reference"`
	Status       string         `db:"status"`
	Kind         string         `db:"kind"`
	DueOn        time.Time      `db:"due_on"`
	FulfilledAt  sql.NullTime   `db:"fulfilled_at"`
	AssignedName sql.NullString `db:"assigned_name"`
	Overdue      bool           `db:"overdue"`
}

// PromiseList is the promises still owed, or the kept ones, with the counts
// of those owed.
type PromiseList struct {
	Items         []PromiseItem
	Open, Overdue int // promises owed; of those, past their due date
}

const (
	// promisesSQL lists promises still owed (on bundles that are not
	// refused or withdrawn), overdue first, or the most recently kept ones.
	promisesSQL = `SELECT pr.bundle_id, p.name AS partner_name, b.reference, b.status, pr.kind, pr.due_on, pr.fulfilled_at,
		sa.display_name AS assigned_name, (pr.fulfilled_at IS NULL AND pr.due_on < $1) AS overdue
	FROM promises pr
	JOIN bundles b ON b.id = pr.bundle_id
	JOIN partners p ON p.id = b.partner_id
	LEFT JOIN staff sa ON sa.username = b.assigned_to
	WHERE CASE WHEN $2 = 'fulfilled' THEN pr.fulfilled_at IS NOT NULL
		ELSE pr.fulfilled_at IS NULL AND b.status IN ('desk', 'registered') END
	ORDER BY CASE WHEN $2 = 'fulfilled' THEN pr.fulfilled_at END DESC, pr.due_on, pr.bundle_id, pr.kind
	LIMIT 500`
	promiseCountsSQL = `SELECT count(*), count(*) FILTER (WHERE pr.due_on < $1)
		FROM promises pr JOIN bundles b ON b.id = pr.bundle_id
		WHERE pr.fulfilled_at IS NULL AND b.status IN ('desk', 'registered')`
)

// Promises lists the promises still owed on today (fulfilled false), or the
// most recently kept ones (true).
func (s *Service) Promises(ctx context.Context, today time.Time, fulfilled bool) (*PromiseList, error) {
	show := "open"
	if fulfilled {
		show = "fulfilled"
	}
	var l PromiseList
	if err := s.DB.SelectContext(ctx, &l.Items, promisesSQL, today, show); err != nil {
		return nil, fmt.Errorf("promises: %w", err)
	}
	if err := s.DB.QueryRowContext(ctx, promiseCountsSQL, today).Scan(&l.Open, &l.Overdue); err != nil {
		return nil, fmt.Errorf("promise counts: %w", err)
	}
	return &l, nil
}
