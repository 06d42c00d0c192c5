package server_test

import (
	"bytes"
	"net/http"
	"testing"
)

// problemFields are the (field, code) pairs of a problem's errors.
func problemFields(t *testing.T, r response) map[[2]string]bool {
	t.Helper()
	out := map[[2]string]bool{}
	errs, _ := r.json(t)["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		c, _ := m["code"].(string)
		out[[2]string{f, c}] = true
	}
	return out
}

// TestMortgageeIsThePartnerOverHTTP: the mortgagee's name and credit code
// must be a pair the signing partner is registered as (PROMISES S8); a
// branch registered by the administrator is one.
func TestMortgageeIsThePartnerOverHTTP(t *testing.T) {
	t.Parallel()
	a := setup(t)
	const branchName, branchCode = "龙江示范银行股份有限公司齐齐哈尔龙沙支行", "91230202MA1BRCH016"

	otherName := bytes.ReplaceAll(a.body("LJB-S8-1"), []byte(bankA.Name), []byte(bankB.Name))
	r := a.post("lj-bank", otherName)
	if r.status != http.StatusUnprocessableEntity || !problemFields(t, r)[[2]string{"mortgagee.name", "mortgagee_not_partner"}] {
		t.Fatalf("another bank's name under lj-bank's code: %d %s, want 422 mortgagee.name mortgagee_not_partner", r.status, r.body)
	}
	branch := bytes.ReplaceAll(bytes.ReplaceAll(a.body("LJB-S8-2"), []byte(bankA.Name), []byte(branchName)), []byte(bankA.CreditCode), []byte(branchCode))
	r = a.post("lj-bank", branch)
	if r.status != http.StatusUnprocessableEntity || !problemFields(t, r)[[2]string{"mortgagee.idNumber", "mortgagee_not_partner"}] {
		t.Fatalf("an unlisted branch: %d %s, want 422 mortgagee.idNumber mortgagee_not_partner", r.status, r.body)
	}
	if n := a.count("mortgages") + a.count("bundles"); n != 0 {
		t.Fatalf("refused submissions wrote %d rows", n)
	}

	if err := a.registry.AddMortgagee(t.Context(), "lj-bank", branchName, branchCode); err != nil {
		t.Fatal(err)
	}
	if r = a.post("lj-bank", branch); r.status != http.StatusCreated || r.json(t)["status"] != "registered" {
		t.Fatalf("a listed branch: %d %s, want 201 registered", r.status, r.body)
	}
	if r = a.post("hc-bank", bytes.ReplaceAll(branch, []byte("LJB-S8-2"), []byte("HCB-S8-2"))); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("another bank naming lj-bank's branch: %d %s, want 422", r.status, r.body)
	}
}

// TestHashReferenceIsForBatchRecords: a single bundle may not take a
// reference of the form batch records are filed under.
func TestHashReferenceIsForBatchRecords(t *testing.T) {
	t.Parallel()
	a := setup(t)
	r := a.post("lj-bank", a.body("GJJ-20261126-001#1"))
	if r.status != http.StatusUnprocessableEntity || !problemFields(t, r)[[2]string{"reference", "reference_format"}] {
		t.Fatalf("reference with #: %d %s, want 422 reference reference_format", r.status, r.body)
	}
	if n := a.count("bundles"); n != 0 {
		t.Errorf("%d bundles written", n)
	}
}
