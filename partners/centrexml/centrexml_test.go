package centrexml_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/centrexml"
	"mortgaged/partners/internal/xsdcheck"
	"mortgaged/partners/xmlsafe"
)

var compactJSON = json.Compact

const ns = `xmlns="urn:qqhr:bdc:mortgage:v1"`

// app wraps children in an application element of the right namespace.
func app(children string) string { return `<application ` + ns + `>` + children + `</application>` }

func TestDecodeStructureErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		code  mortgage.Code
		field string
	}{
		{"ErrEmpty", ``, xmlsafe.CodeEmpty, ""},
		{"ErrJSON", `{"reference": "LJYH-1"}`, xmlsafe.CodeMalformed, ""},
		{"ErrTruncated", `<application ` + ns + `><reference>LJYH`, xmlsafe.CodeMalformed, ""},
		{"ErrWrongRoot", `<bundle ` + ns + `/>`, xmlsafe.CodeWrongRoot, "/bundle"},
		{"ErrNoNamespace", `<application><reference>x</reference></application>`, xmlsafe.CodeWrongRoot, "/application"},
		{"ErrOtherNamespace", `<application xmlns="urn:qqhr:bdc:mortgage:v2"/>`, xmlsafe.CodeWrongRoot, "/application"},
		{"ErrUnknownElement", app(`<loanRate>3.1</loanRate>`), xmlsafe.CodeUnknownElement, "/application/loanRate"},
		{"ErrWrongCase", app(`<Reference>x</Reference>`), xmlsafe.CodeUnknownElement, "/application/Reference"},
		{"ErrUnknownNested", app(`<mortgage><rate>3.1</rate></mortgage>`), xmlsafe.CodeUnknownElement, "/application/mortgage/rate"},
		{"ErrChildOutsideNamespace", app(`<reference xmlns="">x</reference>`), xmlsafe.CodeUnknownElement, "/application/reference"},
		{"ErrWrongListItem", app(`<units><mortgagor/></units>`), xmlsafe.CodeUnknownElement, "/application/units/mortgagor"},
		{"ErrDuplicate", app(`<reference>a</reference><reference>b</reference>`), xmlsafe.CodeDuplicate, "/application/reference"},
		{"ErrDuplicateInItem", app(`<units><unit><unitNumber>a</unitNumber></unit><unit><unitNumber>a</unitNumber><unitNumber>b</unitNumber></unit></units>`), xmlsafe.CodeDuplicate, "/application/units/unit[2]/unitNumber"},
		{"ErrDuplicateAmount", app(`<mortgage><principalAmount>460000.00</principalAmount><principalAmount>1.00</principalAmount></mortgage>`), xmlsafe.CodeDuplicate, "/application/mortgage/principalAmount"},
		{"ErrDuplicateContainer", app(`<mortgage><principalAmount>460000.00</principalAmount></mortgage><mortgage><principalAmount>1.00</principalAmount></mortgage>`), xmlsafe.CodeDuplicate, "/application/mortgage"},
		{"ErrDuplicateAttribute", app(`<reference xml:lang="zh" xml:lang="en">x</reference>`), xmlsafe.CodeDuplicateAttr, "/application/reference/@lang"},
		{"ErrInvalidGBK", `<?xml version="1.0" encoding="GBK"?>` + app("<remarks>\xd5\x7f</remarks>"), xmlsafe.CodeInvalidBytes, ""},
		{"ErrInvalidUTF8", app("<remarks>\xff</remarks>"), xmlsafe.CodeMalformed, ""},
		{"ErrAttribute", `<application ` + ns + ` reference="x"/>`, xmlsafe.CodeUnknownElement, "/application/@reference"},
		{"ErrAttributeOnValue", app(`<reference lang="zh">x</reference>`), xmlsafe.CodeUnknownElement, "/application/reference/@lang"},
		{"ErrTextInContainer", app(`<mortgage>x</mortgage>`), xmlsafe.CodeWrongContent, "/application/mortgage"},
		{"ErrChildInValue", app(`<reference><a ` + ns + `/></reference>`), xmlsafe.CodeWrongContent, "/application/reference/a"},
		{"ErrDoctype", `<!DOCTYPE application [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + app(`<reference>&x;</reference>`), xmlsafe.CodeDoctype, ""},
		{"ErrUndefinedEntity", app(`<reference>&x;</reference>`), xmlsafe.CodeMalformed, ""},
		{"ErrTooDeep", app(strings.Repeat("<remarks>", 100) + strings.Repeat("</remarks>", 100)), xmlsafe.CodeTooDeep, ""},
		{"ErrTextTooLong", app(`<remarks>` + strings.Repeat("x", 70_000) + `</remarks>`), xmlsafe.CodeValueTooLong, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, issues, err := centrexml.Decode([]byte(tt.body))
			var e *xmlsafe.Error
			if !errors.As(err, &e) {
				t.Fatalf("got app=%v issues=%v err=%v, want an *xmlsafe.Error", a != nil, issues, err)
			}
			if a != nil || issues != nil {
				t.Error("a structural fault should come alone")
			}
			if e.Code != tt.code || e.Field != tt.field || e.Message == "" {
				t.Errorf("got %s at %q (%s), want %s at %q", e.Code, e.Field, e.Message, tt.code, tt.field)
			}
		})
	}
}

func TestDecodeValueIssues(t *testing.T) {
	terms := func(inner string) string {
		return app(`<reference>LJYH-1</reference><type>mortgage_first_general</type><mortgage>` + inner + `</mortgage><materials/>`)
	}
	tests := []struct {
		name  string
		body  string
		field string
		code  mortgage.Code
	}{
		{"ErrAmountThousands", terms(`<principalAmount>12,000</principalAmount>`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountExponent", terms(`<maximumAmount>1e5</maximumAmount>`), "mortgage.maximumAmount", mortgage.CodeAmountFormat},
		{"ErrAmountThreeDecimals", terms(`<principalAmount>1.234</principalAmount>`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountNegative", terms(`<principalAmount>-5</principalAmount>`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrDateSlashes", terms(`<debtStart>2026/11/26</debtStart>`), "mortgage.debtStart", mortgage.CodeDateFormat},
		{"ErrDateNotInCalendar", terms(`<debtEnd>2046-02-30</debtEnd>`), "mortgage.debtEnd", mortgage.CodeDateFormat},
		{"ErrBoolean", terms(`<transferRestricted>yes</transferRestricted>`), "mortgage.transferRestricted", centrexml.CodeBoolean},
		{"ErrBase64", app(`<materials><material><content>not base64!</content></material></materials>`), "materials[0].content", centrexml.CodeBase64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, issues, err := centrexml.Decode([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if a == nil {
				t.Fatal("no application with value issues")
			}
			if len(issues) != 1 || issues[0].Field != tt.field || issues[0].Code != tt.code || issues[0].Message == "" {
				t.Errorf("got %+v, want one %s at %s", issues, tt.code, tt.field)
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<m:application xmlns:m="urn:qqhr:bdc:mortgage:v1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="urn:qqhr:bdc:mortgage:v1 centre-xml-v1.xsd">
  <!-- element order is free -->
  <m:materials>
    <m:material><m:content>
      JVBE
      Ri0x
    </m:content><m:kind>other</m:kind></m:material>
  </m:materials>
  <m:mortgage>
    <m:transferRestricted> 1 </m:transferRestricted>
    <m:principalAmount>
      560000.5
    </m:principalAmount>
    <m:debtStart>2026-11-26</m:debtStart>
  </m:mortgage>
  <m:mortgagors><m:mortgagor><m:name> 张伟 </m:name><m:idType>1</m:idType><m:idNumber>11010519491231002x</m:idNumber></m:mortgagor></m:mortgagors>
  <m:reference><![CDATA[LJYH-<1>]]></m:reference>
  <m:remarks>一行&#10;两行 &amp; 更多</m:remarks>
</m:application>`
	a, issues, err := centrexml.Decode([]byte(body))
	if err != nil || len(issues) > 0 {
		t.Fatalf("err=%v issues=%v", err, issues)
	}
	checks := []struct{ what, got, want string }{
		{"reference from CDATA", a.Reference, "LJYH-<1>"},
		{"resident id upper-cased", a.Mortgagors[0].IDNumber, "11010519491231002X"},
		{"name trimmed", a.Mortgagors[0].Name, "张伟"},
		{"remarks with entities", a.Remarks, "一行\n两行 & 更多"},
		{"base64 across lines", string(a.Materials[0].Content), "%PDF-1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if a.Mortgage.PrincipalFen != 56000050 || a.Mortgage.TransferRestricted == nil || !*a.Mortgage.TransferRestricted {
		t.Errorf("terms %+v", a.Mortgage)
	}
}

func TestPartnerPath(t *testing.T) {
	for canonical, want := range map[string]string{
		"":                               "/application",
		"reference":                      "/application/reference",
		"units":                          "/application/units",
		"units[0].unitNumber":            "/application/units/unit[1]/unitNumber",
		"mortgagors[1].idNumber":         "/application/mortgagors/mortgagor[2]/idNumber",
		"debtors[0].name":                "/application/debtors/debtor[1]/name",
		"mortgagee.idNumber":             "/application/mortgagee/idNumber",
		"mortgage.principalAmount":       "/application/mortgage/principalAmount",
		"materials[29].sha256":           "/application/materials/material[30]/sha256",
		"cancellation.certificateNumber": "/application/cancellation/certificateNumber",
		"/application/already/partner":   "/application/already/partner",
	} {
		if got := centrexml.PartnerPath(canonical); got != want {
			t.Errorf("PartnerPath(%q) = %q, want %q", canonical, got, want)
		}
	}
}

// TestAnswersValidate: every kind of answer and event validates against the
// published XSD, including ones with characters XML cannot carry.
func TestAnswersValidate(t *testing.T) {
	decisions := exampleDecisions(t)
	var docs []xsdcheck.Doc
	add := func(name string, b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, xsdcheck.Doc{Name: name, Body: b})
	}
	for name, d := range decisions {
		b, err := centrexml.EncodeDecision(d, shanghai)
		add(name, b, err)
	}
	deadline, fulfilled := at(17, 30, 0), at(15, 2, 0)
	desk := &mortgage.Decision{BundleID: "bd7xk2mq9tw4ne6ra", Reference: "LJYH-DY-20261126-0009", Type: mortgage.FirstGeneral,
		Status: mortgage.StatusDesk, ReceivedAt: at(10, 0, 0), Reasons: mortgage.Issues{}, Deadline: &deadline,
		DeskReasons: mortgage.Issues{{Field: "promises[0]", Code: "promised_document", Message: "容缺受理：承诺日后补交材料"}},
		Promises: []mortgage.PromiseState{{Kind: "identity_document", DueOn: mortgage.NewDate(2026, time.November, 30), FulfilledAt: &fulfilled},
			{Kind: "loan_contract", DueOn: mortgage.NewDate(2026, time.December, 1)}}}
	b, err := centrexml.EncodeDecision(desk, shanghai)
	add("desk", b, err)
	if bytes.Contains(b, []byte("<decidedAt>")) || !bytes.Contains(b, []byte("<field>/application/promises/promise[1]</field>")) {
		t.Errorf("desk decision:\n%s", b)
	}
	cert := &mortgage.IssuedCertificate{Number: "黑(2026)齐齐哈尔市不动产证明第0000001号", VerificationCode: "7KQ2-M9XD", Status: "valid",
		KeyID: "k2026", XML: []byte(`<certificate/>`), XMLSignature: []byte{1, 2, 3}}
	for _, e := range []mortgage.Event{
		{ID: "evt_0123456789abcdef01234567", Type: mortgage.EventRegistered, OccurredAt: at(9, 41, 7), Decision: decisions["first-general"], Certificate: cert},
		{ID: "evt_1", Type: mortgage.EventRejected, OccurredAt: at(11, 17, 3), Decision: decisions["rejected-seized"]},
		{ID: "evt_2", Type: mortgage.EventCertificateCancelled, OccurredAt: at(14, 20, 31), Decision: decisions["cancellation"],
			Certificate: &mortgage.IssuedCertificate{Number: "黑(2019)齐齐哈尔市不动产证明第0008812号", Status: "cancelled", JSON: []byte(`{}`)}},
	} {
		b, err := centrexml.EncodeEvent(e, shanghai)
		add(string(e.Type), b, err)
		goldenEvent(t, "event-"+strings.ReplaceAll(string(e.Type), ".", "-")+".golden.xml", b)
	}
	for _, p := range []fault.Problem{
		{Type: "/docs/problems.md#xml_unknown_element", Title: "请求无法解析", Status: 400, Detail: "未知元素", Instance: "/v1/bundles",
			Code: xmlsafe.CodeUnknownElement, Errors: mortgage.Issues{{Field: "/application/loanRate", Code: xmlsafe.CodeUnknownElement, Message: "未知元素 /application/loanRate"}}},
		{Type: "/docs/problems.md#reference_conflict", Title: "业务编号已被使用", Status: 409, Detail: "…", Instance: "/v1/bundles", Code: "reference_conflict", BundleID: "bk3q7mzt4xw2ha5cd"},
		{Type: "/docs/problems.md#validation_failed", Title: "申请未通过校验", Status: 422, Code: "validation_failed",
			Errors: mortgage.Issues{{Field: "reference", Code: mortgage.CodeReferenceFormat, Message: "业务编号“a\x01\x00b\ufffe”"}, {Code: "x", Message: "无字段"}}},
	} {
		b, err := centrexml.EncodeProblem(p)
		add(string(p.Code), b, err)
	}
	xsdcheck.Docs(t, answersXSD, docs...)

	// The event carries the certificate's exact bytes.
	b, _ = centrexml.EncodeEvent(mortgage.Event{ID: "e", Type: mortgage.EventRegistered, OccurredAt: at(9, 0, 0), Certificate: cert}, shanghai)
	if !bytes.Contains(b, []byte("<document>PGNlcnRpZmljYXRlLz4=</document>")) || !bytes.Contains(b, []byte("<documentMediaType>application/xml</documentMediaType>")) {
		t.Errorf("certificate document not carried as issued:\n%s", b)
	}
}

// TestRequestSchemaAgreesWithDecoder: edits the XSD refuses are refused or
// reported by the server too; what it accepts, the server reads.
func TestRequestSchemaAgreesWithDecoder(t *testing.T) {
	base := string(readFile(t, filepath.Join(xmlExamples, "first-general.request.xml")))
	edit := func(old, new string) []byte {
		if !strings.Contains(base, old) {
			t.Fatalf("example lacks %q", old)
		}
		return []byte(strings.Replace(base, old, new, 1))
	}
	rejected := []struct {
		name string
		body []byte
		code mortgage.Code
	}{
		{"unknown element", edit("<remarks>", "<loanRate>3.1</loanRate><remarks>"), xmlsafe.CodeUnknownElement},
		{"amount with separator", edit("<principalAmount>560000.00", "<principalAmount>560,000.00"), mortgage.CodeAmountFormat},
		{"amount zero", edit("<principalAmount>560000.00", "<principalAmount>0.00"), mortgage.CodeAmountNotPositive},
		{"date with slashes", edit("<debtEnd>2046-11-25", "<debtEnd>2046/11/25"), mortgage.CodeDateFormat},
		{"boolean yes", edit("<transferRestricted>false", "<transferRestricted>yes"), centrexml.CodeBoolean},
		{"unknown type", edit("<type>mortgage_first_general", "<type>mortgage_change"), mortgage.CodeTypeUnknown},
		{"unknown id type", edit("<idType>1</idType>", "<idType>8</idType>"), mortgage.CodeIDTypeUnknown},
		{"bad unit number", edit("<unitNumber>230202001001GB00023F00010502", "<unitNumber>230202001001GB00023F0001050"), mortgage.CodeUnitNumberFormat},
		{"duplicate reference", edit("<type>", "<reference>x</reference><type>"), xmlsafe.CodeDuplicate},
		{"attribute", edit("<remarks>", `<remarks lang="zh">`), xmlsafe.CodeUnknownElement},
	}
	for _, c := range rejected {
		t.Run("rejects/"+c.name, func(t *testing.T) {
			if !xsdcheck.Rejects(t, requestXSD, c.body) {
				t.Error("the XSD accepts it")
			}
			if codes := verdict(c.body); !contains(codes, c.code) {
				t.Errorf("the server says %v, want %s among them", codes, c.code)
			}
		})
	}
	reordered := strings.Replace(strings.Replace(base, "<reference>LJYH-DY-20261126-0001</reference>", "", 1),
		"</materials>", "</materials>\n  <reference>LJYH-DY-20261126-0001</reference>", 1)
	accepted := []struct {
		name string
		body []byte
	}{
		{"boolean as 0", edit("<transferRestricted>false", "<transferRestricted>0")},
		{"elements in another order", []byte(reordered)},
		{"amount without decimals", edit("<principalAmount>560000.00", "<principalAmount>560000")},
		{"full-width brackets", edit("黑(2021)", "黑（2021）")},
		{"base64 with line breaks", []byte(regexp.MustCompile(`(<content>.{76})`).ReplaceAllString(base, "$1\n"))},
	}
	for _, c := range accepted {
		t.Run("accepts/"+c.name, func(t *testing.T) {
			if xsdcheck.Rejects(t, requestXSD, c.body) {
				t.Error("the XSD rejects it")
			}
			if codes := verdict(c.body); len(codes) > 0 {
				t.Errorf("the server rejects it: %v", codes)
			}
		})
	}
}

// verdict decodes and validates as the server does before the register.
func verdict(body []byte) []mortgage.Code {
	a, decoded, err := centrexml.Decode(body)
	var e *xmlsafe.Error
	if errors.As(err, &e) {
		return []mortgage.Code{e.Code}
	}
	var codes []mortgage.Code
	for _, i := range merge(decoded, mortgage.Validate(a, exampleRules)) {
		codes = append(codes, i.Code)
	}
	return codes
}

func contains(codes []mortgage.Code, c mortgage.Code) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// FuzzDecode: no body takes the decoder down (PROMISES S6); whatever decodes
// survives EncodeApplication and a second Decode with the same canonical
// form, so a retried submission hashes the same.
//
//	go test ./partners/centrexml -run '^$' -fuzz FuzzDecode -fuzztime 1m
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(xmlExamples, "*.request.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no example requests in %s (%v)", xmlExamples, err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	for _, s := range []string{
		``, `<application ` + ns + `/>`, app(`<units><unit/></units><mortgage/><cancellation/><agent/>`),
		app(`<mortgage><principalAmount>1e5</principalAmount><transferRestricted>2</transferRestricted><debtStart>x</debtStart></mortgage>`),
		app(`<materials><material><content>@@</content></material></materials>`),
		app(`<reference>a</reference><reference>b</reference>`), app(`<x/>`), `<a/>`, billion,
		app(`<promises><promise><kind>loan_contract</kind><dueOn>2026-13-01</dueOn></promise><promise/></promises><reviewRequest>请人工审核</reviewRequest>`),
		app("<remarks>\r\n\t x\r</remarks><reference> \u3000r </reference>"),
		app(`<mortgage><principalAmount>460000</principalAmount><principalAmount>1</principalAmount></mortgage>`),
		app(`<reference a="1" a="2">x</reference>`), "<?xml version=\"1.0\" encoding=\"GBK\"?>" + app("<remarks>\xd5\x7f</remarks>"),
		app("<remarks>a\u202eb\u200bc</remarks><reference>R\u0085</reference>"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, issues, err := centrexml.Decode(body)
		if err != nil {
			var e *xmlsafe.Error
			if !errors.As(err, &e) || a != nil || issues != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("bad error: app=%v issues=%v err=%v (%T)", a != nil, issues, err, err)
			}
			return
		}
		mortgage.Validate(a, exampleRules)
		enc, err := centrexml.EncodeApplication(a)
		if err != nil {
			t.Fatal(err)
		}
		again, issues2, err := centrexml.Decode(enc)
		if err != nil || len(issues2) > 0 {
			t.Fatalf("re-decoding our own encoding: %v %+v\n%s", err, issues2, enc)
		}
		if c1, c2 := a.Canonical(), again.Canonical(); !bytes.Equal(c1, c2) {
			t.Fatalf("canonical form changed in a round trip:\nfirst:  %s\nsecond: %s", c1, c2)
		}
	})
}

const billion = `<!DOCTYPE a [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><application ` + ns + `><reference>&b;</reference></application>`

// TestPromises: 容缺受理 and a review request travel in XML v1 as in JSON v1.
func TestPromises(t *testing.T) {
	js := strings.Replace(string(readFile(t, filepath.Join(jsonExamples, "first-general.request.json"))), `"materials": [`,
		`"promises": [{"kind": "identity_document", "dueOn": "2026-11-30"}], "reviewRequest": "借款人为外籍人士，请人工核实", "materials": [`, 1)
	want, is, err := centrejson.Decode([]byte(js))
	if err != nil || len(is) > 0 || len(want.Promises) != 1 {
		t.Fatalf("JSON: %v %+v %+v", err, is, want.Promises)
	}
	b, err := centrexml.EncodeApplication(want)
	if err != nil {
		t.Fatal(err)
	}
	got, is, err := centrexml.Decode(b)
	if err != nil || len(is) > 0 {
		t.Fatalf("XML: %v %+v", err, is)
	}
	if !bytes.Equal(got.Canonical(), want.Canonical()) {
		t.Errorf("canonical forms differ:\nXML:  %s\nJSON: %s", got.Canonical(), want.Canonical())
	}
	xsdcheck.Docs(t, requestXSD, xsdcheck.Doc{Name: "promises", Body: b})

	bad := bytes.Replace(b, []byte("<dueOn>2026-11-30</dueOn>"), []byte("<dueOn>2026/11/30</dueOn>"), 1)
	if _, is, err := centrexml.Decode(bad); err != nil || len(is) != 1 || is[0].Field != "promises[0].dueOn" || is[0].Code != mortgage.CodeDateFormat {
		t.Errorf("bad dueOn: %v %+v", err, is)
	}
}

// TestDecodeMaterial: a promised document supplied later, on its own.
func TestDecodeMaterial(t *testing.T) {
	app, _, err := centrexml.Decode(readFile(t, filepath.Join(xmlExamples, "first-general.request.xml")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := centrexml.EncodeMaterial(app.Materials[2])
	if err != nil {
		t.Fatal(err)
	}
	xsdcheck.Docs(t, requestXSD, xsdcheck.Doc{Name: "material", Body: b})
	m, is, err := centrexml.DecodeMaterial(b)
	if err != nil || len(is) > 0 || m.Kind != "mortgage_contract" || !bytes.Equal(m.Content, app.Materials[2].Content) {
		t.Fatalf("got %+v %+v %v", m, is, err)
	}
	_, is, err = centrexml.DecodeMaterial(bytes.Replace(b, []byte("<content>"), []byte("<content>!"), 1))
	if err != nil || len(is) != 1 || is[0].Field != "content" || is[0].Code != centrexml.CodeBase64 {
		t.Errorf("bad content: %v %+v", err, is)
	}
	var e *xmlsafe.Error
	if _, _, err := centrexml.DecodeMaterial(readFile(t, filepath.Join(xmlExamples, "first-general.request.xml"))); !errors.As(err, &e) || e.Code != xmlsafe.CodeWrongRoot {
		t.Errorf("an application is not a material: %v", err)
	}
}

// goldenEvent compares an outbound event with its golden file in testdata
// (rewritten with -update): a partner's parser is written against these bytes.
func goldenEvent(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code writes (run with -update after a deliberate change):\n%s", name, got)
	}
}
