package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/formats"
)

// Encumbrance query problem codes.
const (
	// CodeQuotaExceeded: the partner has used its encumbrance queries for
	// the business day.
	CodeQuotaExceeded mortgage.Code = "quota_exceeded"
	// CodeEncumbranceQueryMoved: the old GET route, which took any consent
	// string, answers only with where the query went.
	CodeEncumbranceQueryMoved mortgage.Code = "encumbrance_query_moved"
)

// registerUnitRoutes serves the pre-loan encumbrance query (抵押前查询).
func (s *Server) registerUnitRoutes(r *mux.Router) {
	r.HandleFunc("/units/{unitNumber}/encumbrances", s.encumbrancesMoved).Methods(http.MethodGet)
	r.HandleFunc("/encumbrance-queries", s.queryEncumbrances).Methods(http.MethodPost)
	r.HandleFunc("/encumbrance-queries", s.encumbranceQueries).Methods(http.MethodGet)
}

// encumbrancesMoved tells a partner still on the old query where it went;
// it looks nothing up and counts nothing.
func (s *Server) encumbrancesMoved(w http.ResponseWriter, r *http.Request) {
	s.error(w, r, &fault.Error{Kind: fault.Gone, Code: CodeEncumbranceQueryMoved,
		Detail: "抵押前查询已改为 POST /v1/encumbrance-queries：请求体写明所查询的权利人（姓名、证件种类、证件号码）并附其签署的查询授权书（consent），见 docs/integration-guide.md。"})
}

// encumbranceRequest is the wire form of mortgage.EncumbranceRequest.
type encumbranceRequest struct {
	UnitNumber string            `json:"unitNumber"`
	Owner      *encumbranceParty `json:"owner"`
	Consent    *consentDocument  `json:"consent"`
}

type encumbranceParty struct {
	Name     string `json:"name"`
	IDType   string `json:"idType"`
	IDNumber string `json:"idNumber"`
}

// consentDocument has the shape of a bundle's material (centre JSON v1).
type consentDocument struct {
	Kind      string `json:"kind"`
	FileName  string `json:"fileName"`
	MediaType string `json:"mediaType"`
	SHA256    string `json:"sha256"`
	Content   string `json:"content"` // standard base64
}

// decodeEncumbranceRequest reads a query. A *centrejson.SyntaxError means
// the body is not a query at all (400); the issues are values that cannot
// be read, reported with the validation issues (422).
func decodeEncumbranceRequest(body []byte) (mortgage.EncumbranceRequest, mortgage.Issues, error) {
	var w encumbranceRequest
	if err := centrejson.Strict(body, &w); err != nil {
		return mortgage.EncumbranceRequest{}, nil, err
	}
	q := mortgage.EncumbranceRequest{UnitNumber: w.UnitNumber}
	if w.Owner != nil {
		q.Owner = mortgage.Party{Name: w.Owner.Name, IDType: w.Owner.IDType, IDNumber: w.Owner.IDNumber}
	}
	var is mortgage.Issues
	if c := w.Consent; c != nil {
		content, err := base64.StdEncoding.Strict().DecodeString(c.Content)
		if err != nil {
			is.Add("consent.content", centrejson.CodeBase64, "查询授权书内容不是有效的 base64 编码（标准字母表，带 = 填充）")
		}
		q.Consent = &mortgage.Material{Kind: c.Kind, FileName: c.FileName, MediaType: c.MediaType, SHA256: c.SHA256, Content: content}
	}
	return q, is, nil
}

// queryEncumbrances answers who holds what on a unit for a bank asking on
// behalf of an owner with that owner's signed consent (PROMISES A7): 200
// with the owner's own holding and the unit's encumbrances, 404 when the
// unit is unknown or the person is not its owner (the same answer), 422
// for a missing or bad consent, 429 past the daily quota.
func (s *Server) queryEncumbrances(w http.ResponseWriter, r *http.Request) {
	// The query is JSON for every partner, and so are its problems: their
	// field paths name the JSON body's fields, not an XML format's elements.
	r = r.WithContext(context.WithValue(r.Context(), formatKey, (*formats.Format)(nil)))
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != centrejson.MediaType {
		s.error(w, r, &fault.Error{Kind: fault.UnsupportedMediaType, Code: CodeMediaType, Detail: "抵押前查询的请求体是 JSON：Content-Type 必须是 application/json。"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
	if err != nil {
		s.error(w, r, err)
		return
	}
	q, issues, err := decodeEncumbranceRequest(body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if len(issues) > 0 {
		s.error(w, r, &mortgage.ValidationError{Issues: mortgage.MergeIssues(issues, s.Service.CheckEncumbranceRequest(q))})
		return
	}
	e, err := s.Service.QueryEncumbrances(r.Context(), partnerFrom(r.Context()).ID, q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	addLog(r.Context(), slog.String("query", e.QueryID))
	e.AsOf = e.AsOf.In(s.Service.Config.Location)
	writeJSON(w, http.StatusOK, e)
}

// encumbranceQueries lists the partner's own queries, newest first.
func (s *Server) encumbranceQueries(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "limit 须为 1–1000 的整数。",
				Issues: []fault.Issue{{Field: "limit", Code: "limit_invalid", Message: "limit 须为 1–1000 的整数"}}})
			return
		}
		limit = n
	}
	qs, err := s.Service.EncumbranceQueries(r.Context(), partnerFrom(r.Context()).ID, limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	for i := range qs {
		qs[i].QueriedAt = qs[i].QueriedAt.In(s.Service.Config.Location)
	}
	writeJSON(w, http.StatusOK, map[string]any{"queries": qs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
