package server

import "net/http"

// MountConsole serves the staff console (server/console) under /console,
// behind the same panic recovery, request log and metrics as the partner
// API but none of its partner authentication: the console has its own
// sessions. cmd wires it so that this package does not depend on the
// console's desk.
func (s *Server) MountConsole(h http.Handler) {
	s.router.Path("/console").Handler(h)
	s.router.PathPrefix("/console/").Handler(h)
}
