package console

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// issue is one reason stored with a bundle: {field, code, message}.
type issue struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func parseIssues(b []byte) ([]issue, error) {
	var is []issue
	if len(b) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(b, &is); err != nil {
		return nil, fmt.Errorf("reasons: %w", err)
	}
	return is, nil
}

// queueItem is one bundle in the queue.
type queueItem struct {
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
	DecidedBy    sql.NullString `db:"decided_by"`
	RawReasons   []byte         `db:"desk_reasons"`
	Reasons      []issue        `db:"-"`
}

type option struct{ Value, Label string }

type queueData struct {
	State, Partner, Reason, Query string
	Mine                          bool
	States                        []option
	Partners                      []option
	Reasons                       []option
	Items                         []queueItem
	AtDesk, Overdue, MineCount    int
	Limit                         int
}

const queueLimit = 200

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

var queueStates = []option{{"desk", "待人工审核"}, {"registered", "已登簿"}, {"rejected", "不予登记"}, {"withdrawn", "已撤回"}}

// queue lists the bundles at the desk by deadline, with filters.
func (c *Console) queue(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	d := queueData{State: q.Get("state"), Partner: q.Get("partner"), Reason: q.Get("reason"),
		Query: strings.TrimSpace(q.Get("q")), Mine: q.Get("mine") == "1", States: queueStates, Limit: queueLimit}
	if d.State == "" {
		d.State = "desk"
	}
	valid := false
	for _, o := range queueStates {
		valid = valid || o.Value == d.State
	}
	if !valid {
		return badRequest("状态筛选无效。")
	}
	ctx := r.Context()
	if err := c.db.SelectContext(ctx, &d.Items, queueSQL, d.State, d.Partner, d.Reason, d.Query, d.Mine, s.Username, queueLimit); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	for i := range d.Items {
		is, err := parseIssues(d.Items[i].RawReasons)
		if err != nil {
			return fmt.Errorf("bundle %s: %w", d.Items[i].ID, err)
		}
		d.Items[i].Reasons = is
	}
	if err := c.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE deadline <= $1), count(*) FILTER (WHERE assigned_to = $2)
		FROM bundles WHERE status = 'desk'`, c.now(), s.Username).Scan(&d.AtDesk, &d.Overdue, &d.MineCount); err != nil {
		return fmt.Errorf("queue counts: %w", err)
	}
	if err := c.db.SelectContext(ctx, &d.Partners, `SELECT id AS value, name AS label FROM partners ORDER BY name`); err != nil {
		return fmt.Errorf("partners: %w", err)
	}
	var codes []struct {
		Code    string `db:"code"`
		Message string `db:"message"`
	}
	if err := c.db.SelectContext(ctx, &codes, `SELECT r->>'code' AS code, min(r->>'message') AS message
		FROM bundles b, jsonb_array_elements(b.desk_reasons) r
		WHERE b.desk_reasons <> '[]' GROUP BY 1 ORDER BY 1`); err != nil {
		return fmt.Errorf("reason codes: %w", err)
	}
	for _, rc := range codes {
		d.Reasons = append(d.Reasons, option{rc.Code, reasonLabel(rc.Code, rc.Message)})
	}
	c.render(w, r, http.StatusOK, "queue.html", view{Title: "待办队列", Nav: "queue", S: s, Data: d})
	return nil
}
