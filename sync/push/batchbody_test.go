package push

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"mortgaged/sync/outbox"
)

// TestBatchBody: the fund centre's XML events travel as its own event file;
// JSON events as a JSON document; a mix falls back to JSON with each XML
// event as a string, so nothing is lost.
func TestBatchBody(t *testing.T) {
	t.Parallel()
	xmlEvent := func(id string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<GJJSJ>\n  <SJID>" + id + "</SJID>\n</GJJSJ>\n")
	}
	const xmlType, jsonType = "application/xml", "application/json"
	xmlEvs := []outbox.Claimed{{ID: "e1", Payload: xmlEvent("e1"), MediaType: xmlType}, {ID: "e2", Payload: xmlEvent("e2"), MediaType: xmlType}}
	doc := batchDocument{Events: []json.RawMessage{PayloadJSON(xmlEvs[0].Payload, xmlType), PayloadJSON(xmlEvs[1].Payload, xmlType)}}
	body, ct, err := batchBody(doc, xmlEvs)
	if err != nil || ct != "application/xml" || !bytes.HasPrefix(body, []byte(`<?xml`)) ||
		strings.Count(string(body), "<?xml") != 1 || !strings.Contains(string(body), `<GJJSJWJ SL="2"`) ||
		!strings.Contains(string(body), "<SJID>e1</SJID>") || !strings.Contains(string(body), "<SJID>e2</SJID>") {
		t.Errorf("XML events: %s %q %v", ct, body, err)
	}

	mixed := []outbox.Claimed{{ID: "e1", Payload: xmlEvent("e1"), MediaType: xmlType}, {ID: "e3", Payload: []byte(`{"id":"e3"}`), MediaType: jsonType}}
	doc = batchDocument{Events: []json.RawMessage{PayloadJSON(mixed[0].Payload, xmlType), PayloadJSON(mixed[1].Payload, jsonType)}}
	body, ct, err = batchBody(doc, mixed)
	var got struct{ Events []json.RawMessage }
	if err != nil || ct != "application/json" || json.Unmarshal(body, &got) != nil || len(got.Events) != 2 {
		t.Errorf("mixed events: %s %s %v", ct, body, err)
	}
}
