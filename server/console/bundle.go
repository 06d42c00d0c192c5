package console

import (
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

	"mortgaged/internal/fault"
	"mortgaged/internal/pii"
	"mortgaged/mortgage"
)

// historyEntry is an audit record about the bundle with its text for people.
type historyEntry struct {
	mortgage.HistoryEntry
	Text string
}

type bundleData struct {
	Page           *mortgage.BundlePage // what the registration needs (NeedsMaterial)
	B              mortgage.BundleRow
	App            *mortgage.Application
	DeskReasons    mortgage.Issues
	Refusal        mortgage.Issues
	Units          []*mortgage.UnitExcerpt
	Compare        []compareRow
	Differences    int
	Materials      []mortgage.MaterialEntry
	FirstDocument  int // the material the viewer opens with: the first PDF, else the first
	Promises       []mortgage.PromiseEntry
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
	d.Today = c.today()
	p, err := c.register.BundlePage(ctx, id, d.Today)
	if errors.Is(err, mortgage.ErrNotFound) {
		return notFound("业务")
	}
	if err != nil {
		return err
	}
	d.Page = p
	d.B, d.App, d.DeskReasons, d.Refusal, d.Units = p.B, p.App, p.DeskReasons, p.Refusal, p.Units
	d.Materials, d.Promises = p.Materials, p.Promises
	d.Compare = compare(d.App, d.Units)
	for _, row := range d.Compare {
		if !row.Match {
			d.Differences++
		}
	}
	for i := len(d.Materials) - 1; i >= 0; i-- {
		if d.FirstDocument == 0 || d.Materials[i].MediaType == "application/pdf" {
			d.FirstDocument = d.Materials[i].Seq
		}
	}
	for _, h := range p.History {
		d.History = append(d.History, historyEntry{h, describeDetail(h.Detail, c.reasons)})
	}
	atDesk := d.B.Status == "desk"
	d.CanDecide = atDesk && s.Role.CanDecide()
	d.CanReassign = atDesk && s.Role.CanSupervise()
	d.RefusalReasons = c.cfg.RefusalReasons
	if d.CanReassign {
		as, err := c.staff.Assignees(ctx)
		if err != nil {
			return err
		}
		for _, a := range as {
			d.Assignees = append(d.Assignees, option{a.Username, a.DisplayName + "（" + a.Username + "）"})
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
	m, err := c.register.MaterialFile(r.Context(), v["id"], seq)
	if errors.Is(err, mortgage.ErrNotFound) {
		return notFound("材料")
	}
	if err != nil {
		return err
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
		if status, by, err := c.register.BundleOutcome(r.Context(), id); err == nil {
			msg = "该业务已" + statusLabel(status)
			if by != "" {
				msg = "该业务已由 " + by + " 处理（" + statusLabel(status) + "）"
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
			err = &fault.Error{Kind: fault.Invalid, Detail: "承办人 " + to + " 不存在、已停用或不是审核人员，未改派。"}
		}
		return c.deskFailed(w, r, s, id, err)
	}
	c.log.Info("console: reassigned", slog.String("bundle", id), slog.String("staff", s.Username), slog.String("to", pii.Clip(to, 64)))
	return c.done(w, r, "业务 "+id+" 已改派给 "+to+"。", "/console/bundles/"+url.PathEscape(id))
}
