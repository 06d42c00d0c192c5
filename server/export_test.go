package server

import "github.com/gorilla/mux"

// RouterOf gives the tests of server_test the router to walk: the routes
// served are checked against docs/openapi.json and the A1 table.
func RouterOf(s *Server) *mux.Router { return s.router }
