package server_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestEncumbranceQuery(t *testing.T) {
	a := setup(t)
	n, _ := a.unit()
	if r := a.do(http.MethodGet, "/v1/units/"+n+"/encumbrances", "lj-bank", "", nil); r.status != http.StatusUnprocessableEntity || r.json(t)["code"] != "validation_failed" {
		t.Errorf("without consent: %d %s", r.status, r.body)
	}
	r := a.do(http.MethodGet, "/v1/units/"+n+"/encumbrances?consentReference=CONSENT-0001", "lj-bank", "", nil)
	e := r.json(t)
	if r.status != http.StatusOK || e["ownershipForm"] != "sole" || len(e["owners"].([]any)) != 1 {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), owner.IDNumber) {
		t.Errorf("the answer shows the owner's whole ID number: %s", r.body)
	}
	if r := a.do(http.MethodGet, "/v1/units/230202001001GB99999F00019999/encumbrances?consentReference=CONSENT-0002", "lj-bank", "", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown unit: %d", r.status)
	}
	mine := a.do(http.MethodGet, "/v1/encumbrance-queries", "lj-bank", "", nil)
	if qs, _ := mine.json(t)["queries"].([]any); mine.status != http.StatusOK || len(qs) != 2 {
		t.Errorf("own queries: %d %s", mine.status, mine.body)
	}
	theirs := a.do(http.MethodGet, "/v1/encumbrance-queries", "hc-bank", "", nil)
	if qs, _ := theirs.json(t)["queries"].([]any); len(qs) != 0 {
		t.Errorf("another partner sees %d queries", len(qs))
	}
}
