package server_test

import (
	"encoding/json"
	"fmt"
	"mortgaged/internal/testwait"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type eventsPage struct {
	Events []pulledEvent `json:"events"`
	Next   string        `json:"next"`
	More   bool          `json:"more"`
}

// pulledEvent keeps an event's bytes as well as its id.
type pulledEvent struct {
	ID  string
	Raw json.RawMessage
}

func (e *pulledEvent) UnmarshalJSON(b []byte) error {
	e.Raw = append(json.RawMessage(nil), b...)
	var v struct{ ID string }
	err := json.Unmarshal(b, &v)
	e.ID = v.ID
	return err
}

// settle waits until every event written so far can be pulled. A pull
// holds back events while any older transaction in the cluster may still be
// running, other tests' too (they run in parallel on the same cluster); the
// condition is the pull's own (sync/outbox settledSQL).
func (a *api) settle() {
	a.t.Helper()
	testwait.For(a.t, func() error {
		var n int
		if err := a.db.Get(&n, `SELECT count(*) FROM events WHERE NOT xid < pg_snapshot_xmin(pg_current_snapshot())`); err != nil {
			a.t.Fatal(err)
		}
		if n > 0 {
			return fmt.Errorf("%d events behind transactions still running", n)
		}
		return nil
	})
}

func (a *api) pull(partner, after string, limit string) (response, eventsPage) {
	a.t.Helper()
	a.settle()
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit != "" {
		q.Set("limit", limit)
	}
	r := a.do(http.MethodGet, "/v1/events?"+q.Encode(), partner, "", nil)
	var p eventsPage
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &p); err != nil {
			a.t.Fatalf("pull answer is not JSON: %v: %s", err, r.body)
		}
	}
	return r, p
}

// TestPullAndAcknowledge: a partner pulls its events in order, page by page,
// each exactly as stored, and acknowledges them.
func TestPullAndAcknowledge(t *testing.T) {
	t.Parallel()
	a := setup(t)
	var bundles []string
	for _, ref := range []string{"LJB-EV-1", "LJB-EV-2", "LJB-EV-3"} {
		r := a.do(http.MethodPost, "/v1/bundles", bankA.ID, "application/json", a.body(ref))
		if r.status != http.StatusCreated {
			t.Fatalf("submit %s: %d %s", ref, r.status, r.body)
		}
		bundles = append(bundles, r.json(t)["bundleId"].(string))
	}
	var stored [][]byte
	if err := a.db.Select(&stored, `SELECT payload FROM events WHERE partner_id = $1 ORDER BY seq`, bankA.ID); err != nil {
		t.Fatal(err)
	}
	r, p := a.pull(bankA.ID, "", "2")
	if r.status != http.StatusOK || len(p.Events) != 2 || !p.More || p.Next == "" {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	_, p2 := a.pull(bankA.ID, p.Next, "2")
	if len(p2.Events) != 1 || p2.More {
		t.Fatalf("second page: %+v", p2)
	}
	for i, e := range append(p.Events, p2.Events...) {
		if string(e.Raw) != string(stored[i]) || !strings.Contains(string(e.Raw), bundles[i]) {
			t.Errorf("event %d: %s, want the stored event of bundle %s", i, e.Raw, bundles[i])
		}
	}
	// The end: an empty page keeps the cursor.
	_, p3 := a.pull(bankA.ID, p2.Next, "")
	if len(p3.Events) != 0 || p3.Next != p2.Next {
		t.Errorf("past the end: %+v", p3)
	}

	ack := a.do(http.MethodPost, "/v1/events/ack", bankA.ID, "application/json", []byte(`{"ids":["`+p.Events[0].ID+`","evt_unknown"]}`))
	if ack.status != http.StatusOK {
		t.Fatalf("ack: %d %s", ack.status, ack.body)
	}
	if m := ack.json(t); m["acknowledged"] != 1.0 || len(m["unknown"].([]any)) != 1 {
		t.Errorf("ack answer %s", ack.body)
	}
	upTo := a.do(http.MethodPost, "/v1/events/ack", bankA.ID, "application/json", []byte(`{"upTo":"`+p2.Next+`"}`))
	if upTo.status != http.StatusOK || upTo.json(t)["acknowledged"] != 2.0 {
		t.Errorf("ack up to the cursor: %d %s", upTo.status, upTo.body)
	}
	var unacked int
	if err := a.db.Get(&unacked, `SELECT count(*) FROM events WHERE acked_at IS NULL OR status <> 'delivered'`); err != nil || unacked != 0 {
		t.Errorf("%d events not acknowledged (%v)", unacked, err)
	}
	// Acknowledged events are still there to replay.
	if _, all := a.pull(bankA.ID, "", ""); len(all.Events) != 3 {
		t.Errorf("replay from the start: %d events", len(all.Events))
	}
}

// TestEventsArePrivate proves PROMISES A1 for the events API: another
// partner neither pulls nor acknowledges a partner's events.
func TestEventsArePrivate(t *testing.T) {
	t.Parallel()
	a := setup(t)
	if r := a.do(http.MethodPost, "/v1/bundles", bankA.ID, "application/json", a.body("LJB-PRIV-1")); r.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	_, pa := a.pull(bankA.ID, "", "")
	if len(pa.Events) != 1 {
		t.Fatalf("lj-bank pulled %d events", len(pa.Events))
	}
	if r, pb := a.pull(bankB.ID, "", ""); r.status != http.StatusOK || len(pb.Events) != 0 {
		t.Errorf("hc-bank pulled %d events: %s", len(pb.Events), r.body)
	}
	// Even with lj-bank's cursor: hc-bank's stream is its own.
	if _, pb := a.pull(bankB.ID, pa.Next, ""); len(pb.Events) != 0 {
		t.Errorf("hc-bank pulled with lj-bank's cursor: %+v", pb)
	}
	r := a.do(http.MethodPost, "/v1/events/ack", bankB.ID, "application/json", []byte(`{"ids":["`+pa.Events[0].ID+`"]}`))
	if r.status != http.StatusOK || r.json(t)["acknowledged"] != 0.0 {
		t.Errorf("hc-bank acknowledged lj-bank's event: %d %s", r.status, r.body)
	}
	r = a.do(http.MethodPost, "/v1/events/ack", bankB.ID, "application/json", []byte(`{"upTo":"`+pa.Next+`"}`))
	if r.status != http.StatusOK || r.json(t)["acknowledged"] != 0.0 {
		t.Errorf("hc-bank acknowledged up to lj-bank's cursor: %d %s", r.status, r.body)
	}
	var acked int
	if err := a.db.Get(&acked, `SELECT count(*) FROM events WHERE acked_at IS NOT NULL`); err != nil || acked != 0 {
		t.Errorf("%d of lj-bank's events acknowledged by hc-bank (%v)", acked, err)
	}
	for _, path := range []string{"/v1/events", "/v1/events/ack"} {
		method := map[string]string{"/v1/events": http.MethodGet, "/v1/events/ack": http.MethodPost}[path]
		if r := a.do(method, path, "", "application/json", []byte(`{"ids":["x"]}`)); r.status != http.StatusUnauthorized {
			t.Errorf("%s %s without a key: %d", method, path, r.status)
		}
	}
}

func TestEventsBadParameters(t *testing.T) {
	t.Parallel()
	a := setup(t)
	for name, c := range map[string]struct {
		method, path, body, field, code string
	}{
		"CursorInvalid":    {http.MethodGet, "/v1/events?after=bogus", "", "after", "cursor_invalid"},
		"LimitInvalid":     {http.MethodGet, "/v1/events?limit=0", "", "limit", "limit_invalid"},
		"AckNothing":       {http.MethodPost, "/v1/events/ack", `{}`, "ids", "required"},
		"AckBoth":          {http.MethodPost, "/v1/events/ack", `{"ids":["a"],"upTo":"x"}`, "upTo", "not_allowed"},
		"AckCursorInvalid": {http.MethodPost, "/v1/events/ack", `{"upTo":"bogus"}`, "upTo", "cursor_invalid"},
		"AckMalformed":     {http.MethodPost, "/v1/events/ack", `{"ids":`, "", ""},
		"AckDuplicate":     {http.MethodPost, "/v1/events/ack", `{"ids":["a"],"ids":["b"]}`, "ids", "json_duplicate_key"},
		"AckCaseVariant":   {http.MethodPost, "/v1/events/ack", `{"ids":["a"],"IDS":["b"]}`, "IDS", "json_unknown_field"},
		"AckTooMany":       {http.MethodPost, "/v1/events/ack", `{"ids":[` + strings.Repeat(`"e",`, 1000) + `"e"]}`, "ids", "too_many"},
	} {
		t.Run(name, func(t *testing.T) {
			r := a.do(c.method, c.path, bankA.ID, "application/json", []byte(c.body))
			if r.status != http.StatusBadRequest || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var p struct {
				Code   string
				Errors []struct{ Field, Code string }
			}
			json.Unmarshal(r.body, &p)
			if p.Code != "bad_request" || (c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field || p.Errors[0].Code != c.code)) {
				t.Errorf("problem %s", r.body)
			}
		})
	}
}
