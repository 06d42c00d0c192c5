package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"mortgaged/internal/pgtest"
)

// TestDatabaseOutageIs503 takes the database away from a running server:
// partner, public and operational routes answer 503 unavailable with
// Retry-After, never 500; when the database is back the same requests
// succeed without a restart (PROMISES R3).
func TestDatabaseOutageIs503(t *testing.T) {
	t.Parallel()
	out, d := pgtest.OpenOutage(t)
	a := setupOn(t, d)
	number, code := a.register("LJB-OUTAGE-1")
	var bundleID string
	if err := d.Get(&bundleID, `SELECT id FROM bundles WHERE reference = 'LJB-OUTAGE-1'`); err != nil {
		t.Fatal(err)
	}
	fresh := a.body("LJB-OUTAGE-2")

	verify := "/verify?" + urlValues("number", number, "code", code)
	requests := []struct {
		name string
		send func() response
	}{
		{"submit", func() response { return a.post("lj-bank", fresh) }},
		{"bundle", func() response { return a.get("/v1/bundles/"+bundleID, "lj-bank", "") }},
		{"certificate", func() response { return a.get("/v1/certificates/"+number, "lj-bank", "") }},
		{"events", func() response { return a.get("/v1/events", "lj-bank", "") }},
		{"verify", func() response { return a.get(verify, "", "") }},
		{"verify page", func() response { return a.get("/verify/page?"+urlValues("number", number, "code", code), "", "") }},
		{"print", func() response { return a.get("/certificates/"+number+"/print?code="+code, "", "") }},
		{"readyz", func() response { return a.get("/readyz", "", "") }},
	}

	out.Cut()
	for _, r := range requests {
		res := r.send()
		if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" ||
			!strings.Contains(string(res.body), `"code":"unavailable"`) {
			t.Errorf("%s while the database is down: %d Retry-After %q %s, want 503 unavailable with Retry-After",
				r.name, res.status, res.header.Get("Retry-After"), res.body)
		}
	}

	out.Restore()
	for _, r := range requests {
		res := r.send()
		if res.status >= 500 {
			t.Errorf("%s after the database came back: %d %s", r.name, res.status, res.body)
		}
	}
	if n := a.count("bundles"); n != 2 {
		t.Errorf("%d bundles after the outage, want 2 (the one before, the one resubmitted after)", n)
	}
}

func urlValues(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// TestPullUsesStoredMediaType: an event's payload goes into the pull answer
// by the media type stored with it, not by a guess from its first byte: an
// XML payload that does not start with '<' is still a JSON string of the
// exact XML, and the registrations' own events are stored with their type.
func TestPullUsesStoredMediaType(t *testing.T) {
	t.Parallel()
	a := setup(t)
	a.register("LJB-MEDIA-1")
	var types []string
	if err := a.db.Select(&types, `SELECT DISTINCT media_type FROM events WHERE partner_id = 'lj-bank'`); err != nil {
		t.Fatal(err)
	}
	if len(types) != 1 || types[0] != "application/json" {
		t.Errorf("a JSON partner's registration events stored as %v, want application/json", types)
	}
	xml := "\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Event id=\"evt_xml\"/>\n"
	if _, err := a.db.Exec(`INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, media_type, next_attempt_at)
		VALUES ('evt_xml', 'lj-bank', 'bundle.registered', 'b', now(), $1, 'application/xml', now())`, []byte(xml)); err != nil {
		t.Fatal(err)
	}
	a.settle()
	var page struct{ Events []json.RawMessage }
	res := a.do(http.MethodGet, "/v1/events", "lj-bank", "", nil)
	if err := json.Unmarshal(res.body, &page); res.status != http.StatusOK || err != nil {
		t.Fatalf("pull: %d %v %s", res.status, err, res.body)
	}
	if len(page.Events) != 2 {
		t.Fatalf("pull: %d events, want 2: %s", len(page.Events), res.body)
	}
	var got string
	if err := json.Unmarshal(page.Events[1], &got); err != nil || got != xml {
		t.Errorf("the XML event pulled as %s, want a JSON string of the exact XML", page.Events[1])
	}
	var obj struct{ ID string }
	if err := json.Unmarshal(page.Events[0], &obj); err != nil || obj.ID == "" {
		t.Errorf("the JSON event pulled as %s, want the JSON object as stored", page.Events[0])
	}
}
