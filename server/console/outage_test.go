package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"mortgaged/internal/pgtest"
)

// TestDatabaseOutageIs503 takes the database away from the console: pages
// and actions answer 503 with Retry-After and a page that says to try again,
// never the 500 system error; once it is back, the same session goes on.
func TestDatabaseOutageIs503(t *testing.T) {
	t.Parallel()
	out, d := pgtest.OpenOutage(t)
	e := setup(t, envOptions{db: d})
	staff := e.signIn("wangli")
	tok := staff.token()
	stranger := &staffClient{t: t, e: e, http: &http.Client{Jar: newJar()}}
	form := stranger.get("/console/signin")

	out.Cut()
	for name, send := range map[string]func() page{
		"queue":  func() page { return staff.get("/console/queue") },
		"bundle": func() page { return staff.get("/console/bundles/b_none") },
		"sign in": func() page {
			return stranger.post("/console/signin", url.Values{"csrf": {form.csrf()}, "username": {"wangli"}, "password": {testPassword}})
		},
		"sign out": func() page {
			return staff.post("/console/signout", url.Values{"csrf": {tok}})
		},
	} {
		p := send()
		if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "稍后重试") {
			t.Errorf("%s while the database is down: %d Retry-After %q, want 503 with Retry-After and a page saying to retry\n%s",
				name, p.status, p.header.Get("Retry-After"), p.body)
		}
	}

	out.Restore()
	if p := staff.get("/console/queue"); p.status != http.StatusOK {
		t.Errorf("queue after the database came back: %d\n%s", p.status, p.body)
	}
}
