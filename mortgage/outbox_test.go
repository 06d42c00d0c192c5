package mortgage_test

import (
	"strings"
	"sync"
	"testing"

	"mortgaged/mortgage"
)

// TestEventFormatPassedIn: the submitter's format reaches the encoder as
// given; without one, the partner's registered format is read inside the
// registration's transaction. The payload's media type is stored with the
// event as the encoder gave it.
func TestEventFormatPassedIn(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var mu sync.Mutex
	var asked []string
	e.svc.EncodeEvent = func(format string, ev mortgage.Event) ([]byte, string, error) {
		mu.Lock()
		asked = append(asked, format)
		mu.Unlock()
		if strings.Contains(format, "xml") {
			return []byte("\n<Event id=\"" + ev.ID + "\"/>"), "application/xml", nil
		}
		return []byte(`{"id":"` + ev.ID + `"}`), "application/json", nil
	}
	e.exec(`UPDATE partners SET format = 'centre-xml-v1' WHERE id = 'hc-bank'`)

	given := mortgage.Submitter{PartnerID: "lj-bank", CreditCode: bankCode, Format: "centre-xml-v1"}
	if _, err := e.submitAs(given, e.general(e.soleUnit(zhang), zhang)); err != nil {
		t.Fatal(err)
	}
	other := mortgage.Submitter{PartnerID: "hc-bank", CreditCode: otherBank}
	app := e.general(e.soleUnit(li), li)
	app.Mortgagee = hcBank
	if _, err := e.submitAs(other, app); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || asked[0] != "centre-xml-v1" || asked[1] != "centre-xml-v1" {
		t.Errorf("encoder asked for formats %v, want the one given, then hc-bank's registered one", asked)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE media_type = 'application/xml'`); n != 2 {
		t.Errorf("%d events stored as application/xml, want 2", n)
	}
	asked = nil
	if _, err := e.submitAs(submitter, e.general(e.soleUnit(wang), wang)); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != "centre-json-v1" {
		t.Errorf("encoder asked for %v, want lj-bank's registered centre-json-v1", asked)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE media_type = 'application/json'`); n != 1 {
		t.Errorf("%d events stored as application/json, want 1", n)
	}
}
