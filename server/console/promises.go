package console

import (
	"database/sql"
	"fmt"
	"net/http"
	"time"
)

// promiseItem is a document promised under 容缺受理.
type promiseItem struct {
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

type promisesData struct {
	Show      string // open or fulfilled
	Items     []promiseItem
	Overdue   int
	Open      int
	Today     time.Time
	FollowUp  string
	ShowAlert bool
}

// promisesSQL lists promises still owed (on bundles that are not refused
// or withdrawn), overdue first, or the most recently kept ones.
const promisesSQL = `SELECT pr.bundle_id, p.name AS partner_name, b.reference, b.status, pr.kind, pr.due_on, pr.fulfilled_at,
		sa.display_name AS assigned_name, (pr.fulfilled_at IS NULL AND pr.due_on < $1) AS overdue
	FROM promises pr
	JOIN bundles b ON b.id = pr.bundle_id
	JOIN partners p ON p.id = b.partner_id
	LEFT JOIN staff sa ON sa.username = b.assigned_to
	WHERE CASE WHEN $2 = 'fulfilled' THEN pr.fulfilled_at IS NOT NULL
		ELSE pr.fulfilled_at IS NULL AND b.status IN ('desk', 'registered') END
	ORDER BY CASE WHEN $2 = 'fulfilled' THEN pr.fulfilled_at END DESC, pr.due_on, pr.bundle_id, pr.kind
	LIMIT 500`

// promises shows what is owed and by when; supervisors get the overdue
// ones called out with the follow-up the centre has set.
func (c *Console) promises(w http.ResponseWriter, r *http.Request, s *session) error {
	d := promisesData{Show: r.URL.Query().Get("show"), FollowUp: c.cfg.PromiseFollowUp}
	if d.Show != "fulfilled" {
		d.Show = "open"
	}
	now := c.now().In(c.cfg.Location)
	d.Today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if err := c.db.SelectContext(r.Context(), &d.Items, promisesSQL, d.Today, d.Show); err != nil {
		return fmt.Errorf("promises: %w", err)
	}
	if err := c.db.QueryRowContext(r.Context(), `SELECT count(*), count(*) FILTER (WHERE pr.due_on < $1)
		FROM promises pr JOIN bundles b ON b.id = pr.bundle_id
		WHERE pr.fulfilled_at IS NULL AND b.status IN ('desk', 'registered')`, d.Today).Scan(&d.Open, &d.Overdue); err != nil {
		return fmt.Errorf("promise counts: %w", err)
	}
	d.ShowAlert = d.Overdue > 0 && (s.Role.CanSupervise() || s.Role == RoleAuditor)
	c.render(w, r, http.StatusOK, "promises.html", view{Title: "容缺承诺", Nav: "promises", S: s, Data: d})
	return nil
}
