package server

import (
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gorilla/mux"
)

// methodAware tells "no such path" (404) from "path exists, method does not"
// (405, with Allow) for a subrouter. gorilla/mux 1.8.1 forgets a method
// mismatch when any later route of the subrouter fails to match, because
// each such route re-checks the inherited path prefix first and that match
// clears the error (mux issue #739); routes are then order-sensitive. This
// asks every route directly instead. Call it once every route is registered.
func methodAware(r *mux.Router, notFound, notAllowed http.Handler) http.Handler {
	type route struct {
		path    *regexp.Regexp
		methods []string
	}
	var routes []route
	_ = r.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		pattern, err := rt.GetPathRegexp()
		if err != nil {
			return nil
		}
		methods, err := rt.GetMethods()
		if err != nil {
			return nil
		}
		if re, err := regexp.Compile(pattern); err == nil {
			routes = append(routes, route{re, methods})
		}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var allow []string
		for _, rt := range routes {
			if rt.path.MatchString(req.URL.Path) {
				allow = append(allow, rt.methods...)
			}
		}
		if len(allow) == 0 {
			notFound.ServeHTTP(w, req)
			return
		}
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(slices.Compact(allow), ", "))
		notAllowed.ServeHTTP(w, req)
	})
}
