package server

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"mortgaged/mortgage"
)

// registerUnitRoutes serves the pre-loan encumbrance query (抵押前查询).
func (s *Server) registerUnitRoutes(r *mux.Router) {
	r.HandleFunc("/units/{unitNumber}/encumbrances", s.encumbrances).Methods(http.MethodGet)
	r.HandleFunc("/encumbrance-queries", s.encumbranceQueries).Methods(http.MethodGet)
}

// encumbrances answers who owns a unit and what burdens it, for a bank
// holding the owner's written consent; every query is recorded.
func (s *Server) encumbrances(w http.ResponseWriter, r *http.Request) {
	e, err := s.Service.QueryEncumbrances(r.Context(), partnerFrom(r.Context()).ID,
		mux.Vars(r)["unitNumber"], r.URL.Query().Get("consentReference"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e.AsOf = e.AsOf.In(s.Service.Config.Location)
	writeJSON(w, http.StatusOK, e)
}

// encumbranceQueries lists the partner's own queries, newest first.
func (s *Server) encumbranceQueries(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeProblem(w, r, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "limit 须为 1–1000 的整数。",
				Errors: mortgage.Issues{{Field: "limit", Code: "limit_invalid", Message: "limit 须为 1–1000 的整数"}}})
			return
		}
		limit = n
	}
	qs, err := s.Service.EncumbranceQueries(r.Context(), partnerFrom(r.Context()).ID, limit)
	if err != nil {
		s.Error(w, r, err)
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
