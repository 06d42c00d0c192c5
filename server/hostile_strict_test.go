package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"mortgaged/internal/staff"
	"mortgaged/mortgage"
	"mortgaged/partners/fundbatch"
	"mortgaged/server"
	"mortgaged/server/console"
	"mortgaged/sync/outbox"
)

// strictCase is one hostile request: the answer's status, its problem code
// and, where the rule names one, the field (or element path) it names, and
// the field fault's own code when it differs from the problem's.
type strictCase struct {
	name, method, template, path, partner, contentType string
	body                                               []byte
	status                                             int
	code, field, fieldCode                             string
}

// TestStrictInputThroughTheServer (PROMISES S6, S7): what a bundle says is
// what gets registered. Duplicate, case-variant and escaped JSON keys in a
// bundle, a supplied document's metadata and an acknowledgement; repeated
// attributes and elements in centre XML, a bank dialect and the fund
// centre's batch; bytes that are no GBK character; NUL, bidirectional
// overrides and zero-width characters in names, remarks, scope and
// references; NUL in the path and the query of every GET route, the public
// /verify and the console included. Each gets a clear 4xx naming the rule
// and the field, nothing is written, and the server goes on registering.
func TestStrictInputThroughTheServer(t *testing.T) {
	t.Parallel()
	a := setup(t, func(s *server.Server) {
		con, err := console.New(console.Backend{Desk: console.MortgageDesk{Service: s.Service}, Register: s.Service,
			Staff: staff.NewStore(s.DB), DeadLetters: outbox.DeadLetterStore{DB: s.DB}},
			console.Config{Calendar: s.Service.Config.Calendar}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		s.MountConsole(con)
	})
	c := loadContract(t)
	seedExampleRegister(t, a)
	o := a.ownedObjects()

	tables := []string{"bundles", "mortgages", "certificates", "materials", "audit_log", "events", "batches", "encumbrance_queries"}
	before := map[string]int{}
	for _, table := range tables {
		before[table] = a.count(table)
	}
	acked := o.acked()
	run := func(t *testing.T, cases []strictCase) {
		t.Helper()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := a.do(tc.method, tc.path, tc.partner, tc.contentType, tc.body)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %.500s", r.status, tc.status, r.body)
				}
				if tc.template != "" {
					c.check(t, tc.method, tc.template, r)
				}
				if tc.code == "" { // an HTML page for staff
				} else if code := problemCode(t, r); code != tc.code && !bytes.Contains(r.body, []byte(` code="`+tc.code+`"`)) { // a dialect's problem carries the code as an attribute
					t.Errorf("code %q, want %q: %.500s", code, tc.code, r.body)
				}
				fieldCode := tc.fieldCode
				if fieldCode == "" {
					fieldCode = tc.code
				}
				if tc.field != "" && (!bytes.Contains(r.body, []byte(fieldCode)) || !bytes.Contains(r.body, []byte(tc.field))) {
					t.Errorf("the answer does not name %s at %s: %.800s", fieldCode, tc.field, r.body)
				}
			})
		}
	}

	// The centre's JSON: a bundle, a supplied document, an acknowledgement.
	var compact bytes.Buffer
	if err := json.Compact(&compact, a.body("LJB-S7-JSON")); err != nil {
		t.Fatal(err)
	}
	bundle := compact.String()
	edit := func(old, new string) []byte {
		if !strings.Contains(bundle, old) {
			t.Fatalf("the bundle lacks %q: %s", old, bundle)
		}
		return []byte(strings.Replace(bundle, old, new, 1))
	}
	const amount = `"principalAmount":"800000.00"`
	name := `"name":"` + owner.Name + `"`
	doc := string(o.material)
	editDoc := func(old, new string) []byte {
		if !strings.Contains(doc, old) {
			t.Fatalf("the document lacks %q: %s", old, doc)
		}
		return []byte(strings.Replace(doc, old, new, 1))
	}
	post := func(name, path, template string, body []byte, status int, code, field, fieldCode string) strictCase {
		return strictCase{name: name, method: http.MethodPost, template: template, path: path, partner: bankA.ID,
			contentType: "application/json", body: body, status: status, code: code, field: field, fieldCode: fieldCode}
	}
	bundles, materials := "/v1/bundles", "/v1/bundles/"+o.deskMaterial+"/materials"
	const materialsTpl = "/v1/bundles/{id}/materials"
	ack := func(name, body, field, fieldCode string) strictCase {
		return post(name, "/v1/events/ack", "/v1/events/ack", []byte(body), 400, "bad_request", field, fieldCode)
	}
	t.Run("JSON", func(t *testing.T) {
		run(t, []strictCase{
			post("BundleSameKeyTwice", bundles, bundles, edit(amount, amount+`,"principalAmount":"1.00"`), 400, "json_duplicate_key", "mortgage.principalAmount", ""),
			post("BundleCaseVariantKey", bundles, bundles, edit(amount, amount+`,"PRINCIPALAMOUNT":"1.00"`), 400, "json_unknown_field", "mortgage.PRINCIPALAMOUNT", ""),
			post("BundleCaseVariantOnly", bundles, bundles, edit(amount, `"PrincipalAmount":"800000.00"`), 400, "json_unknown_field", "mortgage.PrincipalAmount", ""),
			post("BundleEscapedKey", bundles, bundles, edit(amount, amount+`,"principal\u0041mount":"1.00"`), 400, "json_duplicate_key", "mortgage.principalAmount", ""),
			post("BundleTopLevelTwice", bundles, bundles, edit(`"type":`, `"type":"cancellation","type":`), 400, "json_duplicate_key", "type", ""),
			post("BundleNestedInArray", bundles, bundles, edit(name, name+`,"n\u0061me":"李某"`), 400, "json_duplicate_key", "mortgagors[0].name", ""),
			post("BundleInvalidUTF8", bundles, bundles, edit(name, `"name":"张\xff伟"`), 400, "json_malformed", "mortgagors[0].name", ""),
			post("BundleNULInName", bundles, bundles, edit(name, `"name":"张伟\u0000"`), 422, "validation_failed", "mortgagors[0].name", "text_forbidden_character"),
			post("BundleBidiInName", bundles, bundles, edit(name, `"name":"\u202e伟张"`), 422, "validation_failed", "mortgagors[0].name", "text_forbidden_character"),
			post("BundleZeroWidthInMortgagee", bundles, bundles, edit(`"name":"`+bankA.Name+`"`, `"name":"`+bankA.Name+`\u200b"`), 422, "validation_failed", "mortgagee.name", "text_forbidden_character"),
			post("BundleNULInRemarks", bundles, bundles, edit(`"remarks":""`, `"remarks":"备注\u0000"`), 422, "validation_failed", "remarks", "text_forbidden_character"),
			post("BundleBidiInRemarks", bundles, bundles, edit(`"remarks":""`, `"remarks":"金额\u2066 1.00\u2069"`), 422, "validation_failed", "remarks", "text_forbidden_character"),
			post("BundleZeroWidthInScope", bundles, bundles, edit(`"scope":"`, `"scope":"\ufeff`), 422, "validation_failed", "mortgage.scope", "text_forbidden_character"),
			post("BundleNULInReference", bundles, bundles, edit(`"reference":"LJB-S7-JSON"`, `"reference":"LJB-S7\u0000"`), 422, "validation_failed", "reference", "text_forbidden_character"),
			post("BundleBidiInReference", bundles, bundles, edit(`"reference":"LJB-S7-JSON"`, `"reference":"LJB-S7\u202d"`), 422, "validation_failed", "reference", "text_forbidden_character"),
			post("BundleNULInTitle", bundles, bundles, edit(`号"`, `号\u0000"`), 422, "validation_failed", "units[0].titleCertificateNumber", "text_forbidden_character"),

			post("MaterialSameKeyTwice", materials, materialsTpl, editDoc(`"kind":"identity_document"`, `"kind":"identity_document","kind":"other"`), 400, "json_duplicate_key", "kind", ""),
			post("MaterialCaseVariantKey", materials, materialsTpl, editDoc(`"kind":`, `"Kind":"other","kind":`), 400, "json_unknown_field", "Kind", ""),
			post("MaterialEscapedKey", materials, materialsTpl, editDoc(`"kind":"identity_document"`, `"kind":"identity_document","\u006bind":"other"`), 400, "json_duplicate_key", "kind", ""),
			post("MaterialNULInFileName", materials, materialsTpl, editDoc(`"fileName":"`, `"fileName":"\u0000`), 422, "validation_failed", "fileName", "text_forbidden_character"),
			post("MaterialBidiInFileName", materials, materialsTpl, editDoc(`"fileName":"`, `"fileName":"\u202efdp.`), 422, "validation_failed", "fileName", "text_forbidden_character"),

			ack("AckSameKeyTwice", `{"ids":["`+o.eventID+`"],"ids":["evt_x"]}`, "ids", "json_duplicate_key"),
			ack("AckCaseVariantKey", `{"ids":["evt_x"],"IDS":["`+o.eventID+`"]}`, "IDS", "json_unknown_field"),
			ack("AckEscapedKey", `{"ids":["`+o.eventID+`"],"\u0069ds":["evt_x"]}`, "ids", "json_duplicate_key"),
			ack("AckNULInID", `{"ids":["`+o.eventID+`\u0000"]}`, "ids[0]", "invalid_characters"),
			ack("AckInvalidUTF8", "{\"ids\":[\"evt_\xff\"]}", "ids[0]", "json_malformed"),

			// Batches are the fund centre's XML file only: a JSON batch is
			// refused by its media type before a byte of it is read.
			{name: "BatchJSON", method: http.MethodPost, template: "/v1/batches", path: "/v1/batches", partner: fundCentre.ID, contentType: "application/json",
				body: []byte(`{"batchNumber":"GJJ-S7","batchNumber":"GJJ-S8"}`), status: 415, code: "unsupported_media_type"},
		})
	})

	// The fund centre's batch XML: not well-formed or not GBK is the whole
	// file refused, and no batch is stored.
	var file bytes.Buffer
	if _, err := fundbatch.Generate(&file, fundbatch.GenerateOptions{BatchNumber: "GJJ-S7-1", Date: mortgage.NewDate(2026, 11, 26), Records: 2,
		Mortgagee: mortgage.Party{Name: fundCentre.Name, IDType: mortgage.IDCreditCode, IDNumber: fundCentre.CreditCode}}); err != nil {
		t.Fatal(err)
	}
	batch := file.String()
	editBatch := func(old, new string) []byte {
		if !strings.Contains(batch, old) {
			t.Fatalf("the batch lacks %q", old)
		}
		return []byte(strings.Replace(batch, old, new, 1))
	}
	upload := func(name string, body []byte, code, field string) strictCase {
		return strictCase{name: name, method: http.MethodPost, template: "/v1/batches", path: "/v1/batches", partner: fundCentre.ID,
			contentType: "application/xml", body: body, status: 400, code: code, field: field}
	}
	t.Run("FundBatchXML", func(t *testing.T) {
		run(t, []strictCase{
			upload("RepeatedAttribute", editBatch("<JL>", `<JL XH="1" XH="2">`), "xml_duplicate_attribute", "/GJJDYPL/JL/@XH"),
			upload("RepeatedAttributeInHeader", editBatch("<ZJE>", `<ZJE unit="yuan" unit="fen">`), "xml_duplicate_attribute", "/GJJDYPL/PCXX/ZJE/@unit"),
			upload("InvalidGBK", gbkDocument(t, batch, "<DBFW>", "\xd5\x7f"), "xml_invalid_bytes", ""),
			upload("RepeatedHeaderElement", editBatch("<ZJE>", "<ZJE>0.01</ZJE><ZJE>"), "xml_duplicate_element", "/GJJDYPL/PCXX/ZJE"),
		})
	})

	// The centre's XML and a bank dialect, for lj-bank registered with each.
	centreXML := string(readExample(t, "xml/first-general.request.xml"))
	dialect := string(readExample(t, "xml/nested-attr/first-general.request.xml"))
	xmlEdit := func(doc, old, new string) []byte {
		if !strings.Contains(doc, old) {
			t.Fatalf("the example lacks %q", old)
		}
		return []byte(strings.Replace(doc, old, new, 1))
	}
	xmlPost := func(name string, body []byte, status int, code, field, fieldCode string) strictCase {
		return strictCase{name: name, method: http.MethodPost, template: bundles, path: bundles, partner: bankA.ID,
			contentType: "application/xml", body: body, status: status, code: code, field: field, fieldCode: fieldCode}
	}
	as := func(format string) {
		if _, err := a.db.Exec(`UPDATE partners SET format = $1 WHERE id = $2`, format, bankA.ID); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("CentreXML", func(t *testing.T) {
		as("centre-xml-v1")
		principal := regexp.MustCompile(`<principalAmount>[^<]*</principalAmount>`).FindString(centreXML)
		run(t, []strictCase{
			xmlPost("RepeatedElement", xmlEdit(centreXML, principal, principal+"<principalAmount>1.00</principalAmount>"), 400, "xml_duplicate_element", "/application/mortgage/principalAmount", ""),
			xmlPost("RepeatedContainer", xmlEdit(centreXML, "<remarks>", "<remarks>x</remarks><remarks>"), 400, "xml_duplicate_element", "/application/remarks", ""),
			xmlPost("RepeatedAttribute", xmlEdit(centreXML, "<reference>", `<reference a="1" a="2">`), 400, "xml_duplicate_attribute", "/application/reference/@a", ""),
			xmlPost("InvalidGBK", gbkDocument(t, centreXML, "<remarks>", "\x81"), 400, "xml_invalid_bytes", "", ""),
			xmlPost("InvalidUTF8", xmlEdit(centreXML, "<remarks>", "<remarks>\xff"), 400, "xml_malformed", "", ""),
			xmlPost("BidiInName", xmlEdit(centreXML, "<name>张伟</name>", "<name>&#x202E;伟张</name>"), 422, "validation_failed", "mortgagors[0].name", "text_forbidden_character"),
			xmlPost("ZeroWidthInRemarks", xmlEdit(centreXML, "<remarks>", "<remarks>&#x200B;"), 422, "validation_failed", "remarks", "text_forbidden_character"),
			xmlPost("C1InReference", xmlEdit(centreXML, "<reference>LJ", "<reference>LJ&#x85;"), 422, "validation_failed", "reference", "text_forbidden_character"),
		})
	})
	t.Run("Dialect", func(t *testing.T) {
		as("nested-attr")
		run(t, []strictCase{
			xmlPost("RepeatedAmount", xmlEdit(dialect, `amountWan="56.000000"`, `amountWan="56.000000" amountWan="0.000001"`), 400, "xml_duplicate_attribute", "/MortgageRequest/Loan/@amountWan", ""),
			xmlPost("RepeatedActionPrefixed", xmlEdit(dialect, `<MortgageRequest `, `<MortgageRequest xmlns:b="urn:x" b:action="CANCEL" `), 400, "xml_duplicate_attribute", "/MortgageRequest/@action", ""),
			xmlPost("RepeatedRole", xmlEdit(dialect, `<Party role="MORTGAGEE"`, `<Party role="MORTGAGEE" role="MORTGAGOR"`), 400, "xml_duplicate_attribute", "/MortgageRequest/Parties/Party[3]/@role", ""),
			xmlPost("RepeatedLoan", xmlEdit(dialect, "  <Remarks>", `  <Loan type="ORDINARY" amountWan="0.000001" start="2026/11/26" end="2046/11/25" transferBan="N"/><Remarks>`), 400, "xml_duplicate_element", "/MortgageRequest/Loan", ""),
			xmlPost("InvalidGBK", gbkDocument(t, dialect, ">张", "\xd5\x7f"), 400, "xml_invalid_bytes", "", ""),
			xmlPost("BidiInName", xmlEdit(dialect, ">张伟<", ">&#x202E;伟张<"), 422, "validation_failed", "mortgagors[0].name", "text_forbidden_character"),
		})
	})
	as("centre-json-v1")

	// NUL and invalid UTF-8 in the path and the query of every GET route.
	var gets []strictCase
	for _, rt := range routesOf(t) {
		partner := ""
		if strings.HasPrefix(rt.path, "/v1/") {
			partner = bankA.ID
		}
		path := pathVar.ReplaceAllString(rt.path, "x")
		if rt.method != http.MethodGet {
			if path != rt.path { // a NUL in the object's id is refused before the body is read
				gets = append(gets, strictCase{name: "PathNUL" + rt.method + rt.path, method: rt.method, template: rt.path,
					path: pathVar.ReplaceAllString(rt.path, "a%00b"), partner: partner, contentType: "application/json", body: []byte(`{}`),
					status: 400, code: "invalid_characters", field: "path"})
			}
			continue
		}
		gets = append(gets,
			strictCase{name: "QueryNUL" + rt.path, method: http.MethodGet, template: rt.path, path: path + "?code=%00&reference=a%00", partner: partner,
				status: 400, code: "invalid_characters", field: "code"},
			strictCase{name: "QueryInvalidUTF8" + rt.path, method: http.MethodGet, template: rt.path, path: path + "?after=%FF", partner: partner,
				status: 400, code: "invalid_characters", field: "after"})
		if path != rt.path {
			gets = append(gets, strictCase{name: "PathNUL" + rt.path, method: http.MethodGet, template: rt.path,
				path: pathVar.ReplaceAllString(rt.path, "a%00b"), partner: partner, status: 400, code: "invalid_characters", field: "path"})
		}
	}
	if len(gets) < 30 {
		t.Fatalf("only %d GET cases: has the router changed?", len(gets))
	}
	gets = append(gets,
		strictCase{name: "VerifyNUL", method: http.MethodGet, template: "/verify", path: "/verify?number=" + url.QueryEscape("黑(2026)\x00") + "&code=ABC", status: 400, code: "invalid_characters", field: "number"},
		strictCase{name: "ConsoleSigninQuery", method: http.MethodGet, path: "/console/signin?next=%00", status: 400, code: "invalid_characters", field: "next"},
		strictCase{name: "ConsoleBundlePath", method: http.MethodGet, path: "/console/bundles/b%00", status: 400, code: "invalid_characters", field: "path"},
		strictCase{name: "ConsoleQueueQuery", method: http.MethodGet, path: "/console/queue?q=%C0%80", status: 400, code: "invalid_characters", field: "q"},
		strictCase{name: "ConsoleApprovePath", method: http.MethodPost, path: "/console/bundles/b%00/approve", contentType: "application/x-www-form-urlencoded",
			body: []byte("csrf=x"), status: 400, code: "invalid_characters", field: "path"},
		strictCase{name: "ConsoleRulePath", method: http.MethodPost, path: "/console/rules/amount%00review", contentType: "application/x-www-form-urlencoded",
			body: []byte("csrf=x"), status: 400, code: "invalid_characters", field: "path"},
		// Console forms are the console's to check once parsed, after its
		// own cheap checks: it answers with a page naming the field.
		strictCase{name: "ConsoleSigninForm", method: http.MethodPost, path: "/console/signin", contentType: "application/x-www-form-urlencoded",
			body: []byte("username=admin%00&password=x"), status: 400, field: "username"},
	)
	t.Run("PathAndQuery", func(t *testing.T) { run(t, gets) })

	// A signature header with bytes that are not UTF-8 is refused before
	// the key is looked up (net/http itself refuses control characters in
	// headers).
	t.Run("SignatureHeaderInvalidUTF8", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, a.url+"/v1/bundles/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Mgd-Key-Id", "k\xff")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var p struct{ Code string }
		if err := json.NewDecoder(res.Body).Decode(&p); err != nil || res.StatusCode != http.StatusBadRequest || p.Code != "invalid_characters" {
			t.Errorf("%d %+v (%v)", res.StatusCode, p, err)
		}
	})

	for _, table := range tables {
		if n := a.count(table); n != before[table] {
			t.Errorf("%s: %d rows after hostile input, %d before", table, n, before[table])
		}
	}
	if n := o.acked(); n != acked {
		t.Errorf("the event's acknowledgement changed: %d, was %d", n, acked)
	}

	// The server keeps serving: a clean bundle registers, as JSON and as
	// the dialect, and the clean document and acknowledgement are taken.
	if r := a.post(bankA.ID, []byte(bundle)); r.status != http.StatusCreated || r.json(t)["status"] != "registered" {
		t.Fatalf("a clean JSON bundle after hostile input: %d %s", r.status, r.body)
	}
	if r := a.do(http.MethodPost, materials, bankA.ID, "application/json", o.material); r.status != http.StatusOK {
		t.Errorf("the clean document after hostile input: %d %s", r.status, r.body)
	}
	if r := a.do(http.MethodPost, "/v1/events/ack", bankA.ID, "application/json", []byte(`{"ids":["`+o.eventID+`"]}`)); r.status != http.StatusOK || o.acked() != 1 {
		t.Errorf("the clean acknowledgement after hostile input: %d %s", r.status, r.body)
	}
	as("nested-attr")
	if r := a.do(http.MethodPost, bundles, bankA.ID, "application/xml", []byte(dialect)); r.status != http.StatusCreated {
		t.Fatalf("a clean dialect bundle after hostile input: %d %s", r.status, r.body)
	}
}

// pathVar matches a path template's variables.
var pathVar = regexp.MustCompile(`\{[^}]+\}`)

// gbkDocument re-encodes an XML document as GBK, declared so, with raw
// bytes inserted after the first occurrence of after.
func gbkDocument(t *testing.T, doc, after, raw string) []byte {
	t.Helper()
	enc := simplifiedchinese.GBK.NewEncoder()
	if strings.HasPrefix(doc, "<?xml") {
		doc = doc[strings.Index(doc, "?>")+2:]
	}
	b, err := enc.String(`<?xml version="1.0" encoding="GBK"?>` + doc)
	if err != nil {
		t.Fatal(err)
	}
	at, err := enc.String(after)
	if err != nil || !strings.Contains(b, at) {
		t.Fatalf("the document lacks %q (%v)", after, err)
	}
	return []byte(strings.Replace(b, at, at+raw, 1))
}
