package server_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"mime"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"mortgaged/server"
)

// TestHostileInputThroughTheServer (PROMISES S6 and "XML and HTTP limits"):
// XML bombs, external entities, 100,000-deep nesting, a 10 MB attribute,
// a body over the limit and deeply nested JSON, each signed and sent by a
// bank registered with the centre's XML format to the real server with the
// production body limit, are refused with a 4xx naming the rule, in
// bounded memory (measured in this process, which holds the server), with
// nothing written; and the server goes on registering.
//
// Not parallel: it measures the process's heap, which other tests running
// at the same time would grow (Go runs the parallel tests after this one).
func TestHostileInputThroughTheServer(t *testing.T) {
	a := setup(t, func(s *server.Server) { s.MaxBodyBytes = server.DefaultMaxBodyBytes })
	c := loadContract(t)
	seedExampleRegister(t, a)
	if _, err := a.db.Exec(`UPDATE partners SET format = 'centre-xml-v1' WHERE id = $1`, bankA.ID); err != nil {
		t.Fatal(err)
	}
	desk := a.deskBundleForXMLPartner()

	const ns = `<application xmlns="urn:qqhr:bdc:mortgage:v1">`
	laughs := `<?xml version="1.0"?>` + "\n<!DOCTYPE application [\n" + `<!ENTITY lol "lol">` + "\n"
	for i := 1; i <= 9; i++ {
		laughs += fmt.Sprintf(`<!ENTITY lol%d "%s">`+"\n", i, strings.Repeat(fmt.Sprintf("&lol%s;", map[bool]string{true: "", false: fmt.Sprint(i - 1)}[i == 1]), 10))
	}
	laughs += "]>\n" + ns + "<reference>&lol9;</reference></application>"
	deepJSON := `{"kind":` + strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000) + "}"

	cases := []struct {
		name, method, template, path, contentType string
		body                                      []byte
		status                                    int
		code                                      string
	}{
		{"BillionLaughs", "POST", "/v1/bundles", "/v1/bundles", "application/xml", []byte(laughs), 400, "xml_doctype_forbidden"},
		{"ExternalEntity", "POST", "/v1/bundles", "/v1/bundles", "application/xml",
			[]byte(`<?xml version="1.0"?><!DOCTYPE application [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + ns + `<reference>&xxe;</reference></application>`), 400, "xml_doctype_forbidden"},
		{"ExternalDTD", "POST", "/v1/bundles", "/v1/bundles", "application/xml",
			[]byte(`<?xml version="1.0"?><!DOCTYPE application SYSTEM "http://127.0.0.1:9/evil.dtd">` + ns + `<reference>x</reference></application>`), 400, "xml_doctype_forbidden"},
		{"UndeclaredEntity", "POST", "/v1/bundles", "/v1/bundles", "application/xml",
			[]byte(ns + `<reference>&xxe;</reference></application>`), 400, "xml_malformed"},
		{"Nested100000Deep", "POST", "/v1/bundles", "/v1/bundles", "application/xml",
			[]byte(ns + strings.Repeat("<remarks>", 100_000) + strings.Repeat("</remarks>", 100_000) + "</application>"), 400, "xml_too_deep"},
		{"Attribute10MB", "POST", "/v1/bundles", "/v1/bundles", "application/xml",
			[]byte(`<application xmlns="urn:qqhr:bdc:mortgage:v1" x="` + strings.Repeat("A", 10<<20) + `"><reference>x</reference></application>`), 400, "xml_value_too_long"},
		{"Text20MB", "POST", "/v1/bundles", "/v1/bundles", "application/xml",
			[]byte(ns + "<remarks>" + strings.Repeat("备", 7<<20) + "</remarks></application>"), 400, "xml_value_too_long"},
		{"200000Elements", "POST", "/v1/bundles", "/v1/bundles", "application/xml",
			[]byte(ns + strings.Repeat("<remarks/>", 200_000) + "</application>"), 413, "xml_too_large"},
		{"Body40MB", "POST", "/v1/bundles", "/v1/bundles", "application/xml",
			[]byte(ns + "<remarks>" + strings.Repeat("x", 40<<20) + "</remarks></application>"), 413, "body_too_large"},
		{"NestedJSONBundle", "POST", "/v1/bundles", "/v1/bundles", "application/json", []byte(deepJSON), 415, "unsupported_media_type"},
		{"NestedJSONMaterial", "POST", "/v1/bundles/{id}/materials", "/v1/bundles/" + desk + "/materials", "application/json", []byte(deepJSON), 400, "json_malformed"},
		{"NestedJSONAck", "POST", "/v1/events/ack", "/v1/events/ack", "application/json", []byte(`{"ids":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "}"), 400, "bad_request"},
		{"NestedXMLMaterial", "POST", "/v1/bundles/{id}/materials", "/v1/bundles/" + desk + "/materials", "application/xml",
			[]byte(`<material xmlns="urn:qqhr:bdc:mortgage:v1">` + strings.Repeat("<kind>", 100_000) + strings.Repeat("</kind>", 100_000) + "</material>"), 400, "xml_too_deep"},
	}
	tables := []string{"bundles", "mortgages", "certificates", "audit_log", "events", "batches"}
	before := map[string]int{}
	for _, table := range tables {
		before[table] = a.count(table)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			heap, total := memory()
			r := a.do(tc.method, tc.path, bankA.ID, tc.contentType, tc.body)
			heapAfter, totalAfter := memory()
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.500s", r.status, tc.status, r.body)
			}
			c.check(t, tc.method, tc.template, r)
			if code := problemCode(t, r); code != tc.code {
				t.Errorf("code %q, want %q: %.500s", code, tc.code, r.body)
			}
			if bytes.Contains(r.body, []byte("root:")) || bytes.Contains(r.body, []byte("lollol")) {
				t.Errorf("the answer echoes an entity's expansion: %.500s", r.body)
			}
			// The body is read once, under the limit, and the handler
			// decodes that copy; the parser stops at the first broken
			// rule. Allocations stay within a small multiple of what was
			// sent (capped at the limit), and nothing stays.
			read := min(int64(len(tc.body)), server.DefaultMaxBodyBytes)
			if grew := int64(totalAfter - total); grew > 6*read+32<<20 {
				t.Errorf("allocated %d MB for a %d MB body", grew>>20, len(tc.body)>>20)
			}
			if kept := int64(heapAfter) - int64(heap); kept > 8<<20 {
				t.Errorf("the heap kept %d MB after the request", kept>>20)
			}
			t.Logf("%d %s: %d KB body, %d KB allocated, heap %+d KB", r.status, tc.code, len(tc.body)>>10, (totalAfter-total)>>10, (int64(heapAfter)-int64(heap))>>10)
		})
	}
	for _, table := range tables {
		if n := a.count(table); n != before[table] {
			t.Errorf("%s: %d rows after hostile input, %d before", table, n, before[table])
		}
	}
	// The server keeps serving: the XML worked example registers.
	r := a.do(http.MethodPost, "/v1/bundles", bankA.ID, "application/xml", readExample(t, "xml/first-maximum.request.xml"))
	if r.status != http.StatusCreated || !bytes.Contains(r.body, []byte("registered")) {
		t.Fatalf("a valid bundle after hostile input: %d %s", r.status, r.body)
	}
	c.check(t, http.MethodPost, "/v1/bundles", r)
}

// memory is the live heap after a collection, and the bytes allocated so far.
func memory() (heap, total uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.TotalAlloc
}

// problemCode reads the code of a problem answer, as JSON or XML.
func problemCode(t *testing.T, r response) string {
	t.Helper()
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	if strings.HasSuffix(mt, "json") {
		code, _ := r.json(t)["code"].(string)
		return code
	}
	var p struct {
		Code string `xml:"code"`
	}
	if err := xml.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("the problem is neither JSON nor XML (%s): %v: %.300s", mt, err, r.body)
	}
	return p.Code
}

// deskBundleForXMLPartner sends, as the XML partner lj-bank, the worked
// example with the mortgagor's identity document promised (容缺受理), and
// returns the bundle, now at the desk.
func (a *api) deskBundleForXMLPartner() string {
	t := a.t
	t.Helper()
	body := string(readExample(t, "xml/first-general.request.xml"))
	if !strings.Contains(body, "</materials>") {
		t.Fatal("first-general.request.xml has changed shape")
	}
	body = strings.Replace(body, "</materials>", "</materials><promises><promise><kind>identity_document</kind><dueOn>2026-11-30</dueOn></promise></promises>", 1)
	r := a.do(http.MethodPost, "/v1/bundles", bankA.ID, "application/xml", []byte(body))
	var d struct {
		BundleID string `xml:"bundleId"`
		Status   string `xml:"status"`
	}
	if err := xml.Unmarshal(r.body, &d); err != nil || r.status != http.StatusCreated || d.Status != "desk" {
		t.Fatalf("desk bundle: %d %s (%v)", r.status, r.body, err)
	}
	return d.BundleID
}
