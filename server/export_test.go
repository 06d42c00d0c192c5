package server

import (
	"log/slog"

	"github.com/gorilla/mux"
)

// RouterOf gives the tests of server_test the router to walk: the routes
// served are checked against docs/openapi.json and the A1 table.
func RouterOf(s *Server) *mux.Router { return s.router }

// HoldBodyBudget reserves n bytes of the node's body budget, as bodies in
// flight would, until release.
func HoldBodyBudget(s *Server, n int64) (release func()) {
	release = s.budget.take(n, s.bodyBudget())
	if release == nil {
		panic("HoldBodyBudget: the budget is already in use")
	}
	return release
}

// SetLog replaces the server's logger, for tests that read its lines.
func SetLog(s *Server, log *slog.Logger) { s.log = log }
