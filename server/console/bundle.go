package console

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"mortgaged/internal/pii"
	"mortgaged/mortgage"
)

// bundleRow is a bundle with what the page shows about it.
type bundleRow struct {
	ID            string         `db:"id"`
	PartnerID     string         `db:"partner_id"`
	PartnerName   string         `db:"partner_name"`
	Reference     string         `db:"reference"`
	Type          string         `db:"type"`
	Status        string         `db:"status"`
	RawReasons    []byte         `db:"reasons"`
	RawDesk       []byte         `db:"desk_reasons"`
	Application   []byte         `db:"application"`
	MortgageID    sql.NullInt64  `db:"mortgage_id"`
	ReceivedAt    time.Time      `db:"received_at"`
	DecidedAt     sql.NullTime   `db:"decided_at"`
	Deadline      sql.NullTime   `db:"deadline"`
	AssignedTo    sql.NullString `db:"assigned_to"`
	AssignedName  sql.NullString `db:"assigned_name"`
	DecidedBy     sql.NullString `db:"decided_by"`
	DecidedByName sql.NullString `db:"decided_by_name"`
	DecisionNote  sql.NullString `db:"decision_note"`
	Certificate   sql.NullString `db:"certificate_number"`
	Officer       sql.NullString `db:"recording_officer"`
}

const bundlePageSQL = `SELECT b.id, b.partner_id, p.name AS partner_name, b.reference, b.type, b.status, b.reasons,
		b.desk_reasons, b.application, b.mortgage_id, b.received_at, b.decided_at, b.deadline,
		b.assigned_to, sa.display_name AS assigned_name, b.decided_by, sd.display_name AS decided_by_name, b.decision_note,
		m.certificate_number, m.recording_officer
	FROM bundles b
	JOIN partners p ON p.id = b.partner_id
	LEFT JOIN staff sa ON sa.username = b.assigned_to
	LEFT JOIN staff sd ON sd.username = b.decided_by
	LEFT JOIN mortgages m ON m.id = b.mortgage_id
	WHERE b.id = $1`

type materialEntry struct {
	Seq       int    `db:"seq"`
	Kind      string `db:"kind"`
	FileName  string `db:"file_name"`
	MediaType string `db:"media_type"`
	SHA256    []byte `db:"sha256"`
	Size      int64  `db:"size"`
}

// Hash is the material's SHA-256 in hex.
func (m materialEntry) Hash() string { return hex.EncodeToString(m.SHA256) }

type promiseEntry struct {
	Kind        string        `db:"kind"`
	DueOn       time.Time     `db:"due_on"`
	FulfilledAt sql.NullTime  `db:"fulfilled_at"`
	MaterialSeq sql.NullInt64 `db:"material_seq"`
}

type historyEntry struct {
	ID        int64     `db:"id"`
	At        time.Time `db:"at"`
	Actor     string    `db:"actor"`
	ActorName string    `db:"actor_name"`
	Action    string    `db:"action"`
	Detail    []byte    `db:"detail"`
	Text      string    `db:"-"`
}

type bundleData struct {
	B              bundleRow
	App            *mortgage.Application
	DeskReasons    []issue
	Refusal        []issue
	Units          []*unitExcerpt
	Compare        []compareRow
	Differences    int
	Materials      []materialEntry
	FirstDocument  int // the material the viewer opens with: the first PDF, else the first
	Promises       []promiseEntry
	History        []historyEntry
	Today          time.Time
	CanDecide      bool
	CanReassign    bool
	RefusalReasons []Reason
	Assignees      []option
}

// bundle shows one bundle with the register beside it and, while it waits
// at the desk, the decision forms the officer's role allows.
func (c *Console) bundle(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	id := mux.Vars(r)["id"]
	var d bundleData
	err := c.db.GetContext(ctx, &d.B, bundlePageSQL, id)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("业务")
	}
	if err != nil {
		return fmt.Errorf("bundle %s: %w", id, err)
	}
	d.App = &mortgage.Application{}
	if err := json.Unmarshal(d.B.Application, d.App); err != nil {
		return fmt.Errorf("bundle %s application: %w", id, err)
	}
	if d.DeskReasons, err = parseIssues(d.B.RawDesk); err != nil {
		return fmt.Errorf("bundle %s: %w", id, err)
	}
	if d.Refusal, err = parseIssues(d.B.RawReasons); err != nil {
		return fmt.Errorf("bundle %s: %w", id, err)
	}
	now := c.now().In(c.cfg.Location)
	d.Today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if d.Units, err = readExcerpts(ctx, c.db, d.App.Units, d.Today, d.B.MortgageID.Int64); err != nil {
		return fmt.Errorf("bundle %s: %w", id, err)
	}
	d.Compare = compare(d.App, d.Units)
	for _, row := range d.Compare {
		if !row.Match {
			d.Differences++
		}
	}
	if err := c.db.SelectContext(ctx, &d.Materials, `SELECT seq, kind, file_name, media_type, sha256, length(content)::bigint AS size
		FROM materials WHERE bundle_id = $1 ORDER BY seq`, id); err != nil {
		return fmt.Errorf("bundle %s materials: %w", id, err)
	}
	for i := len(d.Materials) - 1; i >= 0; i-- {
		if d.FirstDocument == 0 || d.Materials[i].MediaType == "application/pdf" {
			d.FirstDocument = d.Materials[i].Seq
		}
	}
	if err := c.db.SelectContext(ctx, &d.Promises, `SELECT kind, due_on, fulfilled_at, material_seq
		FROM promises WHERE bundle_id = $1 ORDER BY due_on, kind`, id); err != nil {
		return fmt.Errorf("bundle %s promises: %w", id, err)
	}
	if err := c.db.SelectContext(ctx, &d.History, `SELECT a.id, a.at, a.actor, coalesce(s.display_name, p.name, '') AS actor_name, a.action, a.detail
		FROM audit_log a
		LEFT JOIN staff s ON a.actor = 'staff:' || s.username
		LEFT JOIN partners p ON a.actor = 'partner:' || p.id
		WHERE a.subject = $1 ORDER BY a.id`, id); err != nil {
		return fmt.Errorf("bundle %s history: %w", id, err)
	}
	for i := range d.History {
		d.History[i].Text = describeDetail(d.History[i].Detail, c.reasons)
	}
	atDesk := d.B.Status == "desk"
	d.CanDecide = atDesk && s.Role.CanDecide()
	d.CanReassign = atDesk && s.Role.CanSupervise()
	d.RefusalReasons = c.cfg.RefusalReasons
	if d.CanReassign {
		if err := c.db.SelectContext(ctx, &d.Assignees, `SELECT username AS value, display_name || '（' || username || '）' AS label
			FROM staff WHERE NOT disabled AND role IN ('reviewer', 'supervisor') ORDER BY display_name`); err != nil {
			return fmt.Errorf("assignees: %w", err)
		}
	}
	c.render(w, r, http.StatusOK, "bundle.html", view{Title: "业务 " + d.B.ID, Nav: "queue", S: s, Data: d})
	return nil
}

// describeDetail renders an audit row's detail for people.
func describeDetail(b []byte, reasons map[string]string) string {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || len(m) == 0 {
		return ""
	}
	labels := map[string]string{
		"reasons": "原因", "codes": "原因", "note": "说明", "certificateNumber": "证明号", "to": "改派给", "from": "原承办人",
		"partner": "合作机构", "reference": "业务编号", "type": "类型", "role": "角色", "recordingOfficer": "登簿人",
		"officer": "登簿人", "kind": "材料", "deskReasons": "转办原因",
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := m[k]
		var text string
		switch x := v.(type) {
		case string:
			if x == "" {
				continue
			}
			text = x
			if k == "type" {
				text = mortgage.Type(x).Label()
			}
			if k == "role" {
				text = Role(x).Label()
			}
			if l, ok := mortgage.MaterialKinds[x]; ok && k == "kind" {
				text = l
			}
		case []any:
			if len(x) == 0 {
				continue
			}
			items := make([]string, len(x))
			for i, it := range x {
				s := fmt.Sprint(it)
				if k == "codes" || k == "reasons" || k == "deskReasons" {
					if l := reasonLabel(s, ""); l != s {
						s = l
					} else if l, ok := reasons[s]; ok {
						s = l
					}
				}
				items[i] = s
			}
			text = strings.Join(items, "、")
		default:
			bs, _ := json.Marshal(x)
			text = string(bs)
		}
		label := labels[k]
		if label == "" {
			label = k
		}
		parts = append(parts, label+"："+text)
	}
	return strings.Join(parts, "；")
}

// material serves a document inline with its own media type, so the
// browser shows a PDF in a frame and an image in an <img>.
func (c *Console) material(w http.ResponseWriter, r *http.Request, s *session) error {
	v := mux.Vars(r)
	seq, err := strconv.Atoi(v["seq"])
	if err != nil {
		return notFound("材料")
	}
	var m struct {
		MediaType string `db:"media_type"`
		FileName  string `db:"file_name"`
		Content   []byte `db:"content"`
	}
	err = c.db.GetContext(r.Context(), &m, `SELECT media_type, file_name, content FROM materials WHERE bundle_id = $1 AND seq = $2`, v["id"], seq)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("材料")
	}
	if err != nil {
		return fmt.Errorf("material %s/%d: %w", v["id"], seq, err)
	}
	h := w.Header()
	disposition := "inline"
	switch m.MediaType {
	case "application/pdf":
		h.Del("Content-Security-Policy") // Chromium's PDF viewer does not run in a sandboxed document
	case "image/jpeg", "image/png":
		h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
	default:
		// Nothing else is accepted at the door, but never let the browser
		// run what it does not know.
		m.MediaType, disposition = "application/octet-stream", "attachment"
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	}
	h.Set("Content-Type", m.MediaType)
	h.Set("Content-Disposition", disposition+"; filename*=UTF-8''"+url.PathEscape(m.FileName))
	h.Set("Content-Length", strconv.Itoa(len(m.Content)))
	h.Set("Cache-Control", "private, no-store")
	if r.Method == http.MethodHead {
		return nil
	}
	_, _ = w.Write(m.Content)
	return nil
}

// deskFailed tells the officer why the desk did not do what they asked
// and takes them back to the bundle.
func (c *Console) deskFailed(w http.ResponseWriter, r *http.Request, s *session, id string, err error) error {
	msg, public := publicMessage(err)
	if errors.Is(err, mortgage.ErrNotAtDesk) {
		// Say who was first, if it was one of us.
		var status string
		var by sql.NullString
		if c.db.QueryRowContext(r.Context(), `SELECT b.status, coalesce(st.display_name, b.decided_by)
			FROM bundles b LEFT JOIN staff st ON st.username = b.decided_by WHERE b.id = $1`, id).Scan(&status, &by) == nil {
			msg = "该业务已" + statusLabel(status)
			if by.Valid {
				msg = "该业务已由 " + by.String + " 处理（" + statusLabel(status) + "）"
			}
			msg += "，未作任何更改。"
		}
	}
	level := slog.LevelInfo
	if !public {
		level = slog.LevelError
	}
	c.log.Log(r.Context(), level, "console: desk did not act", slog.String("bundle", pii.Clip(id, 64)), slog.String("staff", s.Username), slog.Any("error", err))
	c.setFlash(w, r, "error", msg)
	http.Redirect(w, r, "/console/bundles/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

func (c *Console) approve(w http.ResponseWriter, r *http.Request, s *session) error {
	id := mux.Vars(r)["id"]
	if err := c.desk.Approve(r.Context(), id, s.Officer()); err != nil {
		return c.deskFailed(w, r, s, id, err)
	}
	c.log.Info("console: approved", slog.String("bundle", id), slog.String("staff", s.Username))
	return c.done(w, r, "业务 "+id+" 已核准登簿。", "/console/queue")
}

// maxNoteRunes bounds the refusal note, which the partner receives.
const maxNoteRunes = 500

func (c *Console) refuse(w http.ResponseWriter, r *http.Request, s *session) error {
	id := mux.Vars(r)["id"]
	back := "/console/bundles/" + url.PathEscape(id)
	codes := r.PostForm["code"]
	note := strings.TrimSpace(r.PostForm.Get("note"))
	var problem string
	switch {
	case len(codes) == 0:
		problem = "请至少选择一项不予登记的原因。"
	case utf8.RuneCountInString(note) > maxNoteRunes:
		problem = fmt.Sprintf("说明不能超过 %d 字。", maxNoteRunes)
	}
	for _, code := range codes {
		if _, ok := c.reasons[code]; !ok {
			problem = "原因代码无效：" + code
		}
		if code == "other" && note == "" {
			problem = "选择“其他原因”时须填写说明。"
		}
	}
	if problem != "" {
		c.setFlash(w, r, "error", problem+"操作未执行。")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	if err := c.desk.Refuse(r.Context(), id, s.Officer(), codes, note); err != nil {
		return c.deskFailed(w, r, s, id, err)
	}
	c.log.Info("console: refused", slog.String("bundle", id), slog.String("staff", s.Username), slog.Any("codes", codes))
	return c.done(w, r, "业务 "+id+" 已决定不予登记，已通知合作机构。", "/console/queue")
}

func (c *Console) reassign(w http.ResponseWriter, r *http.Request, s *session) error {
	id := mux.Vars(r)["id"]
	to := strings.TrimSpace(r.PostForm.Get("to"))
	if to == "" {
		c.setFlash(w, r, "error", "请选择承办人。操作未执行。")
		http.Redirect(w, r, "/console/bundles/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	}
	if err := c.desk.Reassign(r.Context(), id, to, s.Officer()); err != nil {
		if errors.Is(err, mortgage.ErrInvalidInput) {
			err = &httpError{Message: "承办人 " + to + " 不存在、已停用或不是审核人员，未改派。"}
		}
		return c.deskFailed(w, r, s, id, err)
	}
	c.log.Info("console: reassigned", slog.String("bundle", id), slog.String("staff", s.Username), slog.String("to", pii.Clip(to, 64)))
	return c.done(w, r, "业务 "+id+" 已改派给 "+to+"。", "/console/bundles/"+url.PathEscape(id))
}
