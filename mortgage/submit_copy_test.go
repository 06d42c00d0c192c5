package mortgage_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"mortgaged/mortgage"
)

// snapshot is a deep copy of a, to compare the caller's application with
// after Submit.
func snapshot(t *testing.T, a *mortgage.Application) *mortgage.Application {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var c mortgage.Application
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for i := range c.Materials { // not in the JSON: its hash stands for it
		c.Materials[i].Content = append([]byte(nil), a.Materials[i].Content...)
	}
	return &c
}

// TestSubmitLeavesTheCallersApplication: Submit normalises spellings (full-
// width brackets, upper-case hashes, debtors defaulted to the mortgagors) on
// its own copy. One *Application submitted from several goroutines at once
// races under -race if any of that is written in place, and the caller's
// application stays as it was, field for field.
func TestSubmitLeavesTheCallersApplication(t *testing.T) {
	e := setup(t)
	a := e.general(e.soleUnit(zhang))
	a.Units[0].TitleCertificateNumber = strings.NewReplacer("(", "（", ")", "）").Replace(a.Units[0].TitleCertificateNumber)
	for i := range a.Materials {
		a.Materials[i].SHA256 = strings.ToUpper(a.Materials[i].SHA256)
	}
	a.Debtors = nil
	before := snapshot(t, a)

	const n = 8
	outs := make([]mortgage.Outcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { outs[i], errs[i] = e.submitAs(submitter, a) })
	}
	wg.Wait()
	var cert string
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		if d := outs[i].Decision; d != nil {
			if d.Status != mortgage.StatusRegistered {
				t.Fatalf("status %s %v, want registered", d.Status, d.Reasons)
			}
			cert = d.Registration.CertificateNumber
		}
	}
	if !reflect.DeepEqual(a, before) {
		t.Errorf("Submit changed the caller's application:\n got %+v\nwant %+v", a, before)
	}

	c := e.cancellation(strings.NewReplacer("(", "（", ")", "）").Replace(cert))
	before = snapshot(t, c)
	if d := e.decide(c); d.Status != mortgage.StatusRegistered {
		t.Fatalf("cancellation %s %v, want registered", d.Status, d.Reasons)
	}
	if !reflect.DeepEqual(c, before) {
		t.Errorf("Submit changed the caller's cancellation:\n got %+v\nwant %+v", c, before)
	}
}
