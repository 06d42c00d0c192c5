package server

import (
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"mortgaged/internal/fault"
	"mortgaged/internal/pii"
	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/formats"
)

func (s *Server) registerBundleRoutes(r *mux.Router) {
	// Longer paths first: gorilla/mux 1.8.1 answers 404 instead of 405 on a
	// subrouter when a shorter sibling is registered before (mux issue #739).
	r.HandleFunc("/bundles/{id}/materials", s.supplyMaterial).Methods(http.MethodPost)
	r.HandleFunc("/bundles/{id}/withdraw", s.withdrawBundle).Methods(http.MethodPost)
	r.HandleFunc("/bundles/{id}", s.getBundle).Methods(http.MethodGet)
	r.HandleFunc("/bundles", s.submitBundle).Methods(http.MethodPost)
	r.HandleFunc("/bundles", s.findBundle).Methods(http.MethodGet)
}

// submitBundle decides one bundle in the request: 201 with the decision
// (registered or rejected with reasons), the first answer again for a retry,
// 422 with every fault when the application is invalid.
func (s *Server) submitBundle(w http.ResponseWriter, r *http.Request) {
	f := formatFrom(r.Context())
	if !acceptsBody(r, f) {
		s.error(w, r, unsupportedBody(f))
		return
	}
	app, decodeIssues, err := f.Decode(requestBody(r)) // read once, in authentication
	if err != nil {
		s.error(w, r, err)
		return
	}
	p := partnerFrom(r.Context())
	sub := submitterOf(p)
	if len(decodeIssues) > 0 {
		// Report value faults together with every other fault (S4).
		s.error(w, r, &mortgage.ValidationError{Issues: mortgage.MergeIssues(decodeIssues, s.Service.Validate(sub, app))})
		return
	}
	out, err := s.Service.Submit(r.Context(), sub, app, func(d *mortgage.Decision) (mortgage.Answer, error) {
		b, err := f.EncodeDecision(d)
		return mortgage.Answer{Status: http.StatusCreated, Body: b}, err
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	// Only now, validated, do the partner's reference and parties reach
	// the log, clipped.
	addLog(r.Context(), slog.String("reference", pii.Clip(app.Reference, maxLogReference)), slog.String("type", string(app.Type)), maskedMortgagors(app))
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		addLog(r.Context(), slog.Bool("replayed", true))
	} else {
		d := out.Decision
		s.metrics.bundles.WithLabelValues(string(d.Type), string(d.Status)).Inc()
		addLog(r.Context(), slog.String("bundle", d.BundleID), slog.String("decision", string(d.Status)))
		w.Header().Set("Location", "/v1/bundles/"+d.BundleID)
	}
	w.Header().Set("Content-Type", f.AnswerType)
	w.WriteHeader(out.Answer.Status)
	_, _ = w.Write(out.Answer.Body)
}

// acceptsBody reports whether the request's Content-Type is one the
// partner's format is sent as.
func acceptsBody(r *http.Request, f *formats.Format) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && slices.Contains(f.Accepts, mt)
}

// unsupportedBody says which Content-Types the partner's format is sent as.
func unsupportedBody(f *formats.Format) *fault.Error {
	return &fault.Error{Kind: fault.UnsupportedMediaType, Code: CodeMediaType,
		Detail: "Content-Type 必须是 " + strings.Join(f.Accepts, " 或 ") + "（贵机构登记的格式为 " + f.Name + "）。"}
}

// supplyMaterial takes a document promised under 容缺受理 for a bundle at the desk.
func (s *Server) supplyMaterial(w http.ResponseWriter, r *http.Request) {
	f := formatFrom(r.Context())
	// Another partner's bundle does not exist for this one, in any state
	// (A1): 404 before anything else is said about it.
	if _, err := s.Service.Bundle(r.Context(), partnerFrom(r.Context()).ID, mux.Vars(r)["id"]); err != nil {
		s.error(w, r, err)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != centrejson.MediaType && !slices.Contains(f.Accepts, mt)) {
		s.error(w, r, unsupportedBody(f))
		return
	}
	body := requestBody(r) // read once, in authentication
	decode := f.DecodeMaterial
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == centrejson.MediaType {
		decode = centrejson.DecodeMaterial // every partner may send a document as JSON
	}
	m, issues, err := decode(body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if len(issues) > 0 {
		s.error(w, r, &mortgage.ValidationError{Issues: issues})
		return
	}
	d, err := s.Service.SupplyMaterial(r.Context(), partnerFrom(r.Context()).ID, mux.Vars(r)["id"], m)
	s.writeDecision(w, r, d, err)
}

// withdrawBundle lets a partner take back a bundle staff have not decided.
func (s *Server) withdrawBundle(w http.ResponseWriter, r *http.Request) {
	p := partnerFrom(r.Context())
	if _, err := s.Service.Withdraw(r.Context(), p.ID, mux.Vars(r)["id"]); err != nil {
		s.error(w, r, err)
		return
	}
	d, err := s.Service.Bundle(r.Context(), p.ID, mux.Vars(r)["id"])
	s.writeDecision(w, r, d, err)
}

func (s *Server) getBundle(w http.ResponseWriter, r *http.Request) {
	d, err := s.Service.Bundle(r.Context(), partnerFrom(r.Context()).ID, mux.Vars(r)["id"])
	s.writeDecision(w, r, d, err)
}

// findBundle looks a bundle up by the partner's own reference, for a bank
// that lost our answer and our bundle id.
func (s *Server) findBundle(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("reference")
	if ref == "" {
		s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest,
			Issues: []fault.Issue{{Field: "reference", Code: mortgage.CodeRequired, Message: "按业务编号查询须提供 reference 参数"}},
			Detail: "请用 GET /v1/bundles?reference=<业务编号> 查询。"})
		return
	}
	d, err := s.Service.BundleByReference(r.Context(), partnerFrom(r.Context()).ID, ref)
	s.writeDecision(w, r, d, err)
}

func (s *Server) writeDecision(w http.ResponseWriter, r *http.Request, d *mortgage.Decision, err error) {
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := formatFrom(r.Context())
	b, err := f.EncodeDecision(d)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", f.AnswerType)
	_, _ = w.Write(b)
}

func maskedMortgagors(app *mortgage.Application) slog.Attr {
	ids := make([]string, 0, min(len(app.Mortgagors), 8))
	for _, m := range app.Mortgagors[:min(len(app.Mortgagors), 8)] {
		ids = append(ids, pii.MaskID(pii.Clip(m.IDNumber, 20)))
	}
	return slog.String("mortgagors", strings.Join(ids, ","))
}
