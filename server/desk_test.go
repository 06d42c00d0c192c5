package server_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"testing"
)

// TestDeskOverHTTP: a bundle with a promised document goes to the desk; the
// partner supplies the document, sees the promise kept, and may withdraw
// until staff decide.
func TestDeskOverHTTP(t *testing.T) {
	t.Parallel()
	a := setup(t)
	var app map[string]any
	if err := json.Unmarshal(a.body("LJB-DESK-1"), &app); err != nil {
		t.Fatal(err)
	}
	materials := app["materials"].([]any)
	loan := materials[1].(map[string]any)
	if loan["kind"] != "loan_contract" {
		t.Fatalf("fixture order changed: %v", loan["kind"])
	}
	// The mortgagor's identity document comes later (容缺受理 as the plan names it).
	identity := maps.Clone(loan)
	identity["kind"], identity["fileName"] = "identity_document", "identity.pdf"
	app["promises"] = []any{map[string]any{"kind": "identity_document", "dueOn": "2026-11-30"}}
	body, _ := json.Marshal(app)

	r := a.post("lj-bank", body)
	d := r.json(t)
	if r.status != http.StatusCreated || d["status"] != "desk" || d["deadline"] != "2026-11-26T17:30:00+08:00" || d["decidedAt"] != nil {
		t.Fatalf("desk answer %d %s", r.status, r.body)
	}
	id := d["bundleId"].(string)
	if reasons, _ := d["deskReasons"].([]any); len(reasons) != 1 || reasons[0].(map[string]any)["code"] != "promised_document" {
		t.Errorf("desk reasons %v", d["deskReasons"])
	}

	supply, _ := json.Marshal(identity)
	if other := a.do(http.MethodPost, "/v1/bundles/"+id+"/materials", "hc-bank", "application/json", supply); other.status != http.StatusNotFound {
		t.Errorf("another partner supplying: %d, want 404", other.status)
	}
	got := a.do(http.MethodPost, "/v1/bundles/"+id+"/materials", "lj-bank", "application/json", supply)
	promises, _ := got.json(t)["promises"].([]any)
	if got.status != http.StatusOK || len(promises) != 1 || promises[0].(map[string]any)["fulfilledAt"] == nil {
		t.Fatalf("after supplying: %d %s", got.status, got.body)
	}
	if again := a.do(http.MethodPost, "/v1/bundles/"+id+"/materials", "lj-bank", "application/json", supply); again.status != http.StatusUnprocessableEntity {
		t.Errorf("supplying twice: %d %s, want 422", again.status, again.body)
	}

	if other := a.do(http.MethodPost, "/v1/bundles/"+id+"/withdraw", "hc-bank", "", nil); other.status != http.StatusNotFound {
		t.Errorf("another partner withdrawing: %d, want 404", other.status)
	}
	w := a.do(http.MethodPost, "/v1/bundles/"+id+"/withdraw", "lj-bank", "", nil)
	if w.status != http.StatusOK || w.json(t)["status"] != "withdrawn" {
		t.Fatalf("withdraw: %d %s", w.status, w.body)
	}
	if again := a.do(http.MethodPost, "/v1/bundles/"+id+"/withdraw", "lj-bank", "", nil); again.status != http.StatusConflict || again.json(t)["code"] != "not_at_desk" {
		t.Errorf("withdrawing twice: %d %s, want 409 not_at_desk", again.status, again.body)
	} else if title := again.json(t)["title"]; title != "业务件已不在人工审核中" {
		// The title docs/problems.md gives not_at_desk, not another 409's.
		t.Errorf("withdrawing twice: title %q, want 业务件已不在人工审核中", title)
	}
	if n := a.count("mortgages"); n != 0 {
		t.Errorf("%d mortgages registered", n)
	}
}
