package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// The console's static folder serves its files but lists no folder.
func TestStaticListsNoDirectory(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.clientFrom("127.0.0.1")
	for _, path := range []string{"/console/static/"} {
		if p := c.get(path); p.status != http.StatusNotFound || strings.Contains(p.body, "console.css") {
			t.Errorf("GET %s: %d %.200s, want 404 without a listing", path, p.status, p.body)
		}
	}
	if p := c.get("/console/static/console.css"); p.status != http.StatusOK {
		t.Errorf("GET console.css: %d", p.status)
	}
}
