package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
	"mortgaged/sync/outbox"
	"mortgaged/sync/push"
)

// Codes of the events API's parameter faults (in a 400 bad_request).
const (
	CodeCursorInvalid mortgage.Code = "cursor_invalid"
	CodeLimitInvalid  mortgage.Code = "limit_invalid"
)

// Page sizes of GET /v1/events.
const (
	DefaultEventsLimit = 100
	MaxEventsLimit     = 1000
	// MaxAckIDs bounds one acknowledgement.
	MaxAckIDs = 1000
)

func (s *Server) registerEventRoutes(r *mux.Router) {
	// Longer paths first (mux issue #739, see registerBundleRoutes).
	r.HandleFunc("/events/ack", s.ackEvents).Methods(http.MethodPost)
	r.HandleFunc("/events", s.pullEvents).Methods(http.MethodGet)
}

// pullEvents answers GET /v1/events?after=CURSOR&limit=N: the partner's
// events in order, each exactly as pushed, whatever their delivery status,
// with the cursor to continue from.
func (s *Server) pullEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := outbox.ParseCursor(q.Get("after"))
	if err != nil {
		s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "after 参数不是本接口给出的游标。",
			Issues: []fault.Issue{{Field: "after", Code: CodeCursorInvalid, Message: "after 必须是上一页答复中 next 的值（或不带，表示从头开始）"}}})
		return
	}
	limit := DefaultEventsLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "limit 参数应为正整数。",
				Issues: []fault.Issue{{Field: "limit", Code: CodeLimitInvalid, Message: "limit 应为 1 到 1000 之间的整数"}}})
			return
		}
		limit = min(n, MaxEventsLimit)
	}
	p := partnerFrom(r.Context())
	page, err := outbox.Pull(r.Context(), s.DB, p.ID, after, limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// The payloads are written as stored, byte for byte: a partner verifies
	// a certificate inside an event pulled as it would one pushed.
	var b bytes.Buffer
	b.WriteString(`{"events":[`)
	for i, e := range page.Events {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(push.PayloadJSON(e.Payload, e.MediaType)) // an XML partner's events arrive as strings of exact XML
	}
	b.WriteString(`],"next":`)
	next, _ := json.Marshal(page.Next.String())
	b.Write(next)
	b.WriteString(`,"more":` + strconv.FormatBool(page.More) + "}\n")
	addLog(r.Context(), slog.Int("events", len(page.Events)))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// ackRequest acknowledges events by id, or every event up to a cursor.
type ackRequest struct {
	IDs  []string `json:"ids"`
	UpTo string   `json:"upTo"`
}

// ackEvents answers POST /v1/events/ack: the events are the partner's now,
// so the push stops sending them. Acknowledging twice is harmless.
func (s *Server) ackEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		s.error(w, r, err)
		return
	}
	// Strictly, as every JSON from outside: {"ids": […], "IDS": […]} must
	// not acknowledge one list and leave the partner believing the other.
	var req ackRequest
	if se := centrejson.Strict(body, &req); se != nil {
		s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest,
			Detail: se.Message + `；请求体应为 JSON：{"ids": ["evt_…", …]} 或 {"upTo": "<游标>"}。`,
			Issues: []fault.Issue{{Field: se.Field, Code: se.Code, Message: se.Message}}})
		return
	}
	for i, id := range req.IDs {
		if !cleanText(id) { // PostgreSQL refuses NUL and invalid UTF-8: no event id has them
			f := "ids[" + strconv.Itoa(i) + "]"
			s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "事件编号含有控制字符或无效的 UTF-8 编码。",
				Issues: []fault.Issue{{Field: f, Code: CodeInvalidCharacters, Message: f + " 含有控制字符或无效的 UTF-8 编码"}}})
			return
		}
	}
	switch {
	case len(req.IDs) == 0 && req.UpTo == "":
		s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "请给出要确认的事件。",
			Issues: []fault.Issue{{Field: "ids", Code: mortgage.CodeRequired, Message: "ids 与 upTo 须给出其一"}}})
		return
	case len(req.IDs) > 0 && req.UpTo != "":
		s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "ids 与 upTo 只能给出其一。",
			Issues: []fault.Issue{{Field: "upTo", Code: mortgage.CodeNotAllowed, Message: "已给出 ids 时不能再给 upTo"}}})
		return
	case len(req.IDs) > MaxAckIDs:
		s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "一次最多确认 1000 个事件。",
			Issues: []fault.Issue{{Field: "ids", Code: mortgage.CodeTooMany, Message: "ids 最多 1000 个"}}})
		return
	}
	p := partnerFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	if req.UpTo != "" {
		c, err := outbox.ParseCursor(req.UpTo)
		if err != nil {
			s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "upTo 不是本接口给出的游标。",
				Issues: []fault.Issue{{Field: "upTo", Code: CodeCursorInvalid, Message: "upTo 必须是拉取答复中 next 的值"}}})
			return
		}
		n, err := outbox.AckUpTo(r.Context(), s.DB, p.ID, c)
		if err != nil {
			s.error(w, r, err)
			return
		}
		addLog(r.Context(), slog.Int("acknowledged", n))
		_ = json.NewEncoder(w).Encode(map[string]int{"acknowledged": n})
		return
	}
	acked, err := outbox.Ack(r.Context(), s.DB, p.ID, req.IDs)
	if err != nil {
		s.error(w, r, err)
		return
	}
	known := make(map[string]bool, len(acked))
	for _, id := range acked {
		known[id] = true
	}
	unknown := []string{}
	for _, id := range req.IDs {
		if !known[id] {
			unknown = append(unknown, id)
			known[id] = true // list each once
		}
	}
	addLog(r.Context(), slog.Int("acknowledged", len(acked)))
	_ = json.NewEncoder(w).Encode(struct {
		Acknowledged int      `json:"acknowledged"`
		Unknown      []string `json:"unknown"`
	}{len(acked), unknown})
}
