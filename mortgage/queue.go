package mortgage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// The console's read models (queue, bundle page, promises, dashboard,
// settings) live in the domain beside the tables they read: the console
// only renders them.

// QueueFilter chooses the bundles of the console's queue.
type QueueFilter struct {
	State   string // desk, registered, rejected or withdrawn
	Partner string // a partner id, or "" for all
	Reason  string // a desk reason code, or "" for all
	Query   string // a bundle id or reference: finds the bundle in any state
	Mine    bool   // only those assigned to Officer
	Officer string // the member of staff looking
	Limit   int
}

// QueueItem is one bundle in the queue.
type QueueItem struct {
	ID           string         `db:"id"`
	PartnerID    string         `db:"partner_id"`
	PartnerName  string         `db:"partner_name"`
	Reference    string         `db:"reference"`
	Type         string         `db:"type"`
	Status       string         `db:"status"`
	ReceivedAt   time.Time      `db:"received_at"`
	Deadline     sql.NullTime   `db:"deadline"`
	DecidedAt    sql.NullTime   `db:"decided_at"`
	AssignedTo   sql.NullString `db:"assigned_to"`
	AssignedName sql.NullString `db:"assigned_name"`
	DecidedBy    sql.NullString `db:"decided_by"` // the officer's name when known, else the username
	RawReasons   []byte         `db:"desk_reasons"`
	Reasons      Issues         `db:"-"` // why it went to the desk
}

// CodeCount is a reason code with a message it was given with and, where
// counted, how often it occurs.
type CodeCount struct {
	Code    string `db:"code"`
	Message string `db:"message"`
	Count   int    `db:"n"`
}

// Queue is one page of the console's queue with the desk's counts.
type Queue struct {
	Items                 []QueueItem
	AtDesk, Overdue, Mine int         // bundles at the desk: all, past their deadline, assigned to the officer
	Reasons               []CodeCount // every desk reason code in use, for the filter
}

// queueSQL lists bundles in one state. Decided ones are those that went
// through the desk; a search by id or reference finds any bundle.
const queueSQL = `SELECT b.id, b.partner_id, p.name AS partner_name, b.reference, b.type, b.status,
		b.received_at, b.deadline, b.decided_at, b.assigned_to, sa.display_name AS assigned_name,
		coalesce(sd.display_name, b.decided_by) AS decided_by, b.desk_reasons
	FROM bundles b
	JOIN partners p ON p.id = b.partner_id
	LEFT JOIN staff sa ON sa.username = b.assigned_to
	LEFT JOIN staff sd ON sd.username = b.decided_by
	WHERE CASE WHEN $4 <> '' THEN b.id = $4 OR b.reference = $4
		ELSE b.status = $1 AND (b.status = 'desk' OR b.deadline IS NOT NULL OR b.decided_by IS NOT NULL OR b.desk_reasons <> '[]') END
	  AND ($2 = '' OR b.partner_id = $2)
	  AND ($3 = '' OR b.desk_reasons @> jsonb_build_array(jsonb_build_object('code', $3::text)))
	  AND (NOT $5 OR b.assigned_to = $6)
	ORDER BY
		CASE WHEN b.status = 'desk' THEN b.deadline END ASC NULLS LAST,
		CASE WHEN b.status = 'desk' THEN b.received_at END ASC,
		coalesce(b.decided_at, b.received_at) DESC
	LIMIT $7`

const (
	queueCountsSQL = `SELECT count(*), count(*) FILTER (WHERE deadline <= $1), count(*) FILTER (WHERE assigned_to = $2)
		FROM bundles WHERE status = 'desk'`
	deskCodesInUseSQL = `SELECT r->>'code' AS code, min(r->>'message') AS message, count(*) AS n
		FROM bundles b, jsonb_array_elements(b.desk_reasons) r
		WHERE b.desk_reasons <> '[]' GROUP BY 1 ORDER BY 1`
	partnerNamesSQL = `SELECT id, name FROM partners ORDER BY name`
)

// Queue lists the bundles the filter chooses, at-desk ones by deadline,
// with the desk's counts at now.
func (s *Service) Queue(ctx context.Context, f QueueFilter, now time.Time) (*Queue, error) {
	var q Queue
	if err := s.DB.SelectContext(ctx, &q.Items, queueSQL, f.State, f.Partner, f.Reason, f.Query, f.Mine, f.Officer, f.Limit); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	for i := range q.Items {
		is, err := parseIssues(q.Items[i].RawReasons)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: %w", q.Items[i].ID, err)
		}
		q.Items[i].Reasons = is
	}
	if err := s.DB.QueryRowContext(ctx, queueCountsSQL, now, f.Officer).Scan(&q.AtDesk, &q.Overdue, &q.Mine); err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &q.Reasons, deskCodesInUseSQL); err != nil {
		return nil, fmt.Errorf("reason codes: %w", err)
	}
	return &q, nil
}

// PartnerName is a partner as the console's filters list it.
type PartnerName struct {
	ID   string `db:"id"`
	Name string `db:"name"`
}

// PartnerNames lists the partners by name.
func (s *Service) PartnerNames(ctx context.Context) ([]PartnerName, error) {
	var ps []PartnerName
	if err := s.DB.SelectContext(ctx, &ps, partnerNamesSQL); err != nil {
		return nil, fmt.Errorf("partners: %w", err)
	}
	return ps, nil
}

// parseIssues reads reasons stored with a bundle ({field, code, message}).
func parseIssues(b []byte) (Issues, error) {
	var is Issues
	if len(b) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(b, &is); err != nil {
		return nil, fmt.Errorf("reasons: %w", err)
	}
	return is, nil
}
