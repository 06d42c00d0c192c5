package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"mortgaged/mortgage"
	"mortgaged/mortgage/batches"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/fundbatch"
)

// fundCentre is the provident fund centre, for batch uploads.
var fundCentre = partners.Partner{ID: "qqhr-gjj", Kind: partners.KindFundCentre, Name: "齐齐哈尔市住房公积金管理中心",
	CreditCode: creditCode("12230200MB1GJJ001")}

// owned is what partner A (lj-bank, and the fund centre for batches) owns
// when the table runs.
type owned struct {
	reference, bundleID, certificate string
	unit, queryID                    string
	deskMaterial, deskWithdraw       string // bundles at the desk
	material                         []byte // the document deskMaterial promised
	registeredBody                   []byte
	eventID, cursor                  string
	batchID                          string
	batchFile                        []byte
	acked                            func() int // whether A's event is acknowledged
}

// accessCase proves A1 for one route: partner B's credentials on A's
// object find nothing and change nothing; A's own succeed. call sends a
// signed request and checks the answer against docs/openapi.json.
type accessCase func(t *testing.T, o *owned, call func(method, path, partner, contentType string, body []byte) response)

// accessTable has an entry for every /v1 route (method and path template).
var accessTable = map[string]accessCase{
	"POST /v1/bundles": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		// B resending A's application, reference and all, gets neither A's
		// answer nor a bundle: references are per partner and A's bank is
		// not B.
		if r := call(http.MethodPost, "/v1/bundles", bankB.ID, "application/json", o.registeredBody); r.status != http.StatusUnprocessableEntity || bytes.Contains(r.body, []byte(o.bundleID)) {
			t.Errorf("B submitting A's application: %d %s, want 422 without A's bundle", r.status, r.body)
		}
		r := call(http.MethodPost, "/v1/bundles", bankA.ID, "application/json", o.registeredBody)
		if r.status != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "true" || r.json(t)["bundleId"] != o.bundleID {
			t.Errorf("A resubmitting: %d %s, want its first answer replayed", r.status, r.body)
		}
	},
	"GET /v1/bundles": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		path := "/v1/bundles?reference=" + url.QueryEscape(o.reference)
		notFound(t, call(http.MethodGet, path, bankB.ID, "", nil))
		wantBundle(t, call(http.MethodGet, path, bankA.ID, "", nil), o.bundleID, "registered")
	},
	"GET /v1/bundles/{id}": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		notFound(t, call(http.MethodGet, "/v1/bundles/"+o.bundleID, bankB.ID, "", nil))
		wantBundle(t, call(http.MethodGet, "/v1/bundles/"+o.bundleID, bankA.ID, "", nil), o.bundleID, "registered")
	},
	"POST /v1/bundles/{id}/materials": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		path := "/v1/bundles/" + o.deskMaterial + "/materials"
		notFound(t, call(http.MethodPost, path, bankB.ID, "application/json", o.material))
		r := call(http.MethodPost, path, bankA.ID, "application/json", o.material) // B's try changed nothing: A's document is still due
		wantBundle(t, r, o.deskMaterial, "desk")
		if ps, _ := r.json(t)["promises"].([]any); len(ps) != 1 || object(ps[0])["fulfilledAt"] == nil {
			t.Errorf("A supplying its promised document: %s", r.body)
		}
	},
	"POST /v1/bundles/{id}/withdraw": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		path := "/v1/bundles/" + o.deskWithdraw + "/withdraw"
		notFound(t, call(http.MethodPost, path, bankB.ID, "", nil))
		wantBundle(t, call(http.MethodPost, path, bankA.ID, "", nil), o.deskWithdraw, "withdrawn")
	},
	"GET /v1/units/{unitNumber}/encumbrances": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		// Retired: it answers where the query went, to anyone, and looks
		// nothing up.
		for _, p := range []string{bankB.ID, bankA.ID} {
			if r := call(http.MethodGet, "/v1/units/"+o.unit+"/encumbrances?consentReference=X", p, "", nil); r.status != http.StatusGone {
				t.Errorf("%s on the retired route: %d %s", p, r.status, r.body)
			}
		}
	},
	"POST /v1/encumbrance-queries": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		// The register is not a partner's: any bank holding the owner's
		// consent may ask. What is the asker's own is the record of the
		// query, listed to it alone (next entry).
		body := encumbranceBody(o.unit, owner, consentJSON())
		b := call(http.MethodPost, "/v1/encumbrance-queries", bankB.ID, "application/json", body)
		if b.status != http.StatusOK || b.json(t)["queryId"] == o.queryID {
			t.Errorf("B's own query: %d %s", b.status, b.body)
		}
		if a := call(http.MethodPost, "/v1/encumbrance-queries", bankA.ID, "application/json", body); a.status != http.StatusOK {
			t.Errorf("A's query: %d %s", a.status, a.body)
		}
	},
	"GET /v1/encumbrance-queries": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		queryIDs := func(r response) []string {
			var v struct{ Queries []struct{ QueryID string } }
			if r.status != http.StatusOK || json.Unmarshal(r.body, &v) != nil {
				t.Fatalf("list queries: %d %s", r.status, r.body)
			}
			var ids []string
			for _, q := range v.Queries {
				ids = append(ids, q.QueryID)
			}
			return ids
		}
		if ids := queryIDs(call(http.MethodGet, "/v1/encumbrance-queries", bankB.ID, "", nil)); slices.Contains(ids, o.queryID) {
			t.Errorf("B's list holds A's query %s", o.queryID)
		}
		if ids := queryIDs(call(http.MethodGet, "/v1/encumbrance-queries", bankA.ID, "", nil)); !slices.Contains(ids, o.queryID) {
			t.Errorf("A's list %v lacks its query %s", ids, o.queryID)
		}
	},
	"GET /v1/events": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		if r := call(http.MethodGet, "/v1/events", bankB.ID, "", nil); r.status != http.StatusOK || bytes.Contains(r.body, []byte(o.eventID)) {
			t.Errorf("B pulling: %d %.300s, must not hold A's event %s", r.status, r.body, o.eventID)
		}
		if r := call(http.MethodGet, "/v1/events", bankA.ID, "", nil); r.status != http.StatusOK || !bytes.Contains(r.body, []byte(o.eventID)) {
			t.Errorf("A pulling: %d %.300s, want its event %s", r.status, r.body, o.eventID)
		}
	},
	"POST /v1/events/ack": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		byID, _ := json.Marshal(map[string]any{"ids": []string{o.eventID}})
		upTo, _ := json.Marshal(map[string]any{"upTo": o.cursor})
		r := call(http.MethodPost, "/v1/events/ack", bankB.ID, "application/json", byID)
		var got struct {
			Acknowledged int
			Unknown      []string
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &got) != nil || got.Acknowledged != 0 || !slices.Equal(got.Unknown, []string{o.eventID}) {
			t.Errorf("B acknowledging A's event: %d %s, want it unknown to B", r.status, r.body)
		}
		if r := call(http.MethodPost, "/v1/events/ack", bankB.ID, "application/json", upTo); r.status != http.StatusOK || r.json(t)["acknowledged"] != 0.0 {
			t.Errorf("B acknowledging up to A's cursor: %d %s, want nothing acknowledged", r.status, r.body)
		}
		if o.acked() != 0 {
			t.Fatal("A's event acknowledged by B's requests")
		}
		if r := call(http.MethodPost, "/v1/events/ack", bankA.ID, "application/json", byID); r.status != http.StatusOK || r.json(t)["acknowledged"] != 1.0 {
			t.Errorf("A acknowledging its event: %d %s", r.status, r.body)
		}
	},
	"GET /v1/certificates/{number}": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		path := "/v1/certificates/" + url.PathEscape(o.certificate)
		notFound(t, call(http.MethodGet, path, bankB.ID, "", nil))
		notFound(t, call(http.MethodGet, path+"?envelope=1", bankB.ID, "", nil))
		if r := call(http.MethodGet, path, bankA.ID, "", nil); r.status != http.StatusOK || r.header.Get("Certificate-Signature") == "" {
			t.Errorf("A's certificate: %d %.300s", r.status, r.body)
		}
		if r := call(http.MethodGet, path+"?envelope=1", bankA.ID, "", nil); r.status != http.StatusOK {
			t.Errorf("A's certificate envelope: %d %.300s", r.status, r.body)
		}
	},
	"POST /v1/batches": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		if r := call(http.MethodPost, "/v1/batches", bankB.ID, "application/xml", o.batchFile); r.status != http.StatusForbidden || bytes.Contains(r.body, []byte(o.batchID)) {
			t.Errorf("B uploading A's file: %d %s, want 403", r.status, r.body)
		}
		r := call(http.MethodPost, "/v1/batches", fundCentre.ID, "application/xml", o.batchFile)
		if r.status != http.StatusOK || r.json(t)["batchId"] != o.batchID {
			t.Errorf("A uploading its file again: %d %s, want 200 with its batch", r.status, r.body)
		}
	},
	"GET /v1/batches/{id}": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		notFound(t, call(http.MethodGet, "/v1/batches/"+o.batchID, bankB.ID, "", nil))
		if r := call(http.MethodGet, "/v1/batches/"+o.batchID, fundCentre.ID, "", nil); r.status != http.StatusOK || r.json(t)["batchId"] != o.batchID {
			t.Errorf("A's batch: %d %s", r.status, r.body)
		}
	},
	"GET /v1/batches/{id}/results": func(t *testing.T, o *owned, call func(string, string, string, string, []byte) response) {
		notFound(t, call(http.MethodGet, "/v1/batches/"+o.batchID+"/results", bankB.ID, "", nil))
		if r := call(http.MethodGet, "/v1/batches/"+o.batchID+"/results", fundCentre.ID, "", nil); r.status != http.StatusOK || !bytes.Contains(r.body, []byte("GJJ-A1-1")) {
			t.Errorf("A's results: %d %.300s", r.status, r.body)
		}
	},
}

func notFound(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusNotFound {
		t.Errorf("another partner's object: %d %.300s, want 404", r.status, r.body)
	}
}

func wantBundle(t *testing.T, r response, id, status string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Errorf("own bundle: %d %.300s, want 200", r.status, r.body)
		return
	}
	if d := r.json(t); d["bundleId"] != id || d["status"] != status {
		t.Errorf("own bundle: %s, want %s %s", r.body, id, status)
	}
}

// TestPartnersSeeOnlyTheirOwn is PROMISES A1 over every route: partner B's
// credentials on partner A's bundles, certificates, events, queries and
// batches find nothing and change nothing, and A's own succeed, each
// answer as docs/openapi.json describes it. The table is checked against
// the router: a new /v1 route without an entry fails here.
func TestPartnersSeeOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	var routes []string
	for _, r := range routesOf(t) {
		if strings.HasPrefix(r.path, "/v1/") {
			routes = append(routes, r.String())
		}
	}
	sort.Strings(routes)
	for _, r := range routes {
		if accessTable[r] == nil {
			t.Errorf("%s has no entry in accessTable: say how partner B is kept from partner A's objects there", r)
		}
	}
	for r := range accessTable {
		if !slices.Contains(routes, r) {
			t.Errorf("accessTable has %s, which the server does not serve", r)
		}
	}
	if t.Failed() {
		return
	}

	a := setup(t)
	c := loadContract(t)
	o := a.ownedObjects()
	before := map[string]int{}
	for _, table := range []string{"bundles", "mortgages", "batches"} {
		before[table] = a.count(table)
	}
	for _, route := range routes {
		method, template, _ := strings.Cut(route, " ")
		t.Run(route, func(t *testing.T) {
			accessTable[route](t, o, func(m, path, partner, contentType string, body []byte) response {
				t.Helper()
				r := a.do(m, path, partner, contentType, body)
				c.check(t, method, template, r)
				return r
			})
		})
	}
	for table, n := range before {
		if got := a.count(table); got != n {
			t.Errorf("%s: %d rows after the table, %d before: someone's request wrote", table, got, n)
		}
	}
}

// ownedObjects makes partner A's objects: a registered bundle with its
// certificate and event, two bundles at the desk, an encumbrance query,
// and the fund centre's finished batch.
func (a *api) ownedObjects() *owned {
	t := a.t
	t.Helper()
	o := &owned{reference: "LJB-A1-REG"}
	o.registeredBody = a.body(o.reference)
	r := a.post(bankA.ID, o.registeredBody)
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	d := r.json(t)
	o.bundleID = d["bundleId"].(string)
	o.certificate = object(d["registration"])["certificateNumber"].(string)
	var app map[string]any
	_ = json.Unmarshal(o.registeredBody, &app)
	o.unit = object(app["units"].([]any)[0])["unitNumber"].(string)

	for i, id := range []*string{&o.deskMaterial, &o.deskWithdraw} {
		var app map[string]any
		if err := json.Unmarshal(a.body("LJB-A1-DESK-"+string(rune('1'+i))), &app); err != nil {
			t.Fatal(err)
		}
		materials := app["materials"].([]any)
		identity := maps.Clone(object(materials[1]))
		identity["kind"], identity["fileName"] = "identity_document", "identity.pdf"
		o.material, _ = json.Marshal(identity) // the identity document, promised for later
		app["promises"] = []any{map[string]any{"kind": "identity_document", "dueOn": "2026-11-30"}}
		body, _ := json.Marshal(app)
		r := a.post(bankA.ID, body)
		if r.status != http.StatusCreated || r.json(t)["status"] != "desk" {
			t.Fatalf("desk bundle: %d %s", r.status, r.body)
		}
		*id = r.json(t)["bundleId"].(string)
	}

	q := a.queryEncumbrances(bankA.ID, encumbranceBody(o.unit, owner, consentJSON()))
	if q.status != http.StatusOK {
		t.Fatalf("encumbrance query: %d %s", q.status, q.body)
	}
	o.queryID = q.json(t)["queryId"].(string)

	ev, page := a.pull(bankA.ID, "", "")
	if ev.status != http.StatusOK || len(page.Events) == 0 {
		t.Fatalf("pull: %d %s", ev.status, ev.body)
	}
	o.eventID, o.cursor = page.Events[0].ID, page.Next
	o.acked = func() int {
		var n int
		if err := a.db.Get(&n, `SELECT count(*) FROM events WHERE id = $1 AND acked_at IS NOT NULL`, o.eventID); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if err := a.registry.Add(t.Context(), fundCentre); err != nil {
		t.Fatal(err)
	}
	key, err := a.registry.IssueKey(t.Context(), fundCentre.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.keys[fundCentre.ID] = key
	var file bytes.Buffer
	if _, err := fundbatch.Generate(&file, fundbatch.GenerateOptions{BatchNumber: "GJJ-A1-1", Date: mortgage.NewDate(2026, 11, 26), Records: 2,
		Mortgagee: mortgage.Party{Name: fundCentre.Name, IDType: mortgage.IDCreditCode, IDNumber: fundCentre.CreditCode}}); err != nil {
		t.Fatal(err)
	}
	o.batchFile = file.Bytes()
	up := a.do(http.MethodPost, "/v1/batches", fundCentre.ID, "application/xml", o.batchFile)
	if up.status != http.StatusAccepted {
		t.Fatalf("batch upload: %d %s", up.status, up.body)
	}
	o.batchID = up.json(t)["batchId"].(string)
	w := &batches.Worker{Service: a.svc, Node: "a1-test", Decode: func(r io.Reader, fn func(batches.Item) error) error {
		_, err := fundbatch.Decode(r, func(rec fundbatch.Record) error {
			return fn(batches.Item{Index: rec.Index, Reference: rec.Reference, Application: rec.Application, Issues: rec.Issues})
		})
		return err
	}, Render: func(d *mortgage.Decision) (mortgage.Answer, error) {
		b, err := centrejson.EncodeDecision(d, shanghai)
		return mortgage.Answer{Status: http.StatusCreated, Body: b}, err
	}}
	for range 5 {
		if _, err := w.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		if b := a.do(http.MethodGet, "/v1/batches/"+o.batchID, fundCentre.ID, "", nil); b.json(t)["status"] == "finished" {
			return o
		}
	}
	t.Fatalf("the batch did not finish")
	return nil
}
