package centrejson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/internal/doccheck"
)

// The published examples and schemas are kept true here: every example
// request passes its schema, decodes and validates; every example answer is
// exactly what EncodeDecision writes for the decision it shows, and passes its
// schema. Run `go test ./partners/centrejson -run Example -update` to rewrite
// the answer examples after a deliberate change of the wire format.
var update = flag.Bool("update", false, "rewrite the answer examples in docs/examples")

const (
	examplesDir = "../../docs/examples"
	formatsDir  = "../../docs/formats"
	docsDir     = "../../docs"

	requestSchema  = "centre-json-v1.schema.json"
	decisionSchema = "centre-json-v1-decision.schema.json"
	problemSchema  = "problem.schema.json"
)

// The examples are submitted by 龙江示范银行齐齐哈尔分行 on Thursday 26
// November 2026, business time.
var (
	exampleBank  = creditCode("91230200MA1BANK01")
	exampleToday = mortgage.NewDate(2026, time.November, 26)
	exampleRules = mortgage.Rules{Today: exampleToday, PartnerCreditCode: exampleBank}
	shanghai     = time.FixedZone("CST", 8*3600)
)

// creditCode completes a 17-character stem with its GB 32100 check character.
var creditCode = mortgage.MustCreditCode

func compileSchema(t testing.TB, name string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	s, err := c.Compile(filepath.Join(formatsDir, name))
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func example(t testing.TB, name string) []byte { return readFile(t, filepath.Join(examplesDir, name)) }

// schemaErr validates a JSON document against a compiled schema.
func schemaErr(s *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// validRequests are the example requests that must be accepted and decided.
var validRequests = []string{
	"first-general.request.json",
	"first-maximum.request.json",
	"cancellation.request.json",
	"rejected-seized.request.json",
}

func TestExampleRequests(t *testing.T) {
	s := compileSchema(t, requestSchema)
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.request.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example requests in %s (%v)", examplesDir, err)
	}
	for _, f := range files {
		if name := filepath.Base(f); !slices.Contains(validRequests, name) && name != "invalid.request.json" {
			t.Errorf("%s is not covered by this test: add it to validRequests", name)
		}
	}
	for _, name := range validRequests {
		t.Run(name, func(t *testing.T) {
			body := example(t, name)
			if err := schemaErr(s, body); err != nil {
				t.Errorf("schema rejects the example: %v", err)
			}
			app, issues, err := centrejson.Decode(body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(issues) > 0 {
				t.Errorf("decode issues: %+v", issues)
			}
			if is := mortgage.Validate(app, exampleRules); len(is) > 0 {
				t.Errorf("validation issues: %+v", is)
			}
		})
	}
}

// merge is what the server does with decode and validation issues, in a
// stable order.
func merge(decoded, validated mortgage.Issues) mortgage.Issues {
	return mortgage.MergeIssues(decoded, validated).Sorted()
}

// problem mirrors the server's problem+json document, field for field.
type problem struct {
	Type     string          `json:"type"`
	Title    string          `json:"title"`
	Status   int             `json:"status"`
	Detail   string          `json:"detail,omitempty"`
	Instance string          `json:"instance,omitempty"`
	Code     mortgage.Code   `json:"code"`
	Errors   mortgage.Issues `json:"errors,omitempty"`
	BundleID string          `json:"bundleId,omitempty"`
}

// TestExampleInvalid checks that invalid.problem.json is exactly the 422 the
// server gives for invalid.request.json: every fault at once, with paths.
func TestExampleInvalid(t *testing.T) {
	body := example(t, "invalid.request.json")
	if err := schemaErr(compileSchema(t, requestSchema), body); err == nil {
		t.Error("the request schema accepts invalid.request.json")
	}
	app, decoded, err := centrejson.Decode(body)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	issues := merge(decoded, mortgage.Validate(app, exampleRules))
	p := problem{
		Type: "/docs/problems.md#validation_failed", Title: "申请未通过校验", Status: 422,
		Detail:   "申请有 " + strconv.Itoa(len(issues)) + " 处问题，见 errors；未作任何登记。",
		Instance: "/v1/bundles", Code: "validation_failed", Errors: issues,
	}
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "invalid.problem.json", got)
	if err := schemaErr(compileSchema(t, problemSchema), example(t, "invalid.problem.json")); err != nil {
		t.Errorf("problem schema rejects invalid.problem.json: %v", err)
	}
	if len(issues) < 5 {
		t.Errorf("invalid.request.json should show several faults at once, has %d", len(issues))
	}
}

// golden compares a generated JSON document with an example file, or
// rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(examplesDir, name)
	if *update {
		var b bytes.Buffer
		if err := json.Indent(&b, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		b.WriteByte('\n')
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readFile(t, path), &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s differs from what the code writes (run with -update after a deliberate change):\ngot:  %s", name, got)
	}
}

func at(hh, mm, ss int) time.Time { return time.Date(2026, time.November, 26, hh, mm, ss, 0, shanghai) }

// normalCert is a certificate number in the register's spelling (half-width brackets).
func normalCert(t *testing.T, s string) string {
	t.Helper()
	c, err := mortgage.ParseCertificateNumber(s)
	if err != nil {
		t.Fatalf("certificate number %q: %v", s, err)
	}
	return c.String()
}

// TestExampleAnswers builds the decision each answer example shows from its
// request, renders it with EncodeDecision and compares.
func TestExampleAnswers(t *testing.T) {
	s := compileSchema(t, decisionSchema)
	cases := []struct {
		answer, request string
		decide          func(t *testing.T, a *mortgage.Application, d *mortgage.Decision)
	}{
		{"first-general.response.json", "first-general.request.json", func(t *testing.T, a *mortgage.Application, d *mortgage.Decision) {
			d.BundleID = "bk3q7mzt4xw2ha5cd"
			d.ReceivedAt, d.DecidedAt = at(9, 41, 7), at(9, 41, 7)
			d.Status = mortgage.StatusRegistered
			d.Registration = &mortgage.Registration{CertificateNumber: "黑(2026)齐齐哈尔市不动产证明第0000001号",
				RegisteredAt: d.DecidedAt, RecordingOfficer: "自动登簿",
				Ranks: []mortgage.UnitRank{{UnitNumber: a.Units[0].UnitNumber, Rank: 1}}}
			fee := mortgage.ComputeFee(a.Type, a.FeeExemption, []mortgage.FeeUnit{{Use: "residential"}})
			d.Fee = &fee
		}},
		{"first-maximum.response.json", "first-maximum.request.json", func(t *testing.T, a *mortgage.Application, d *mortgage.Decision) {
			d.BundleID = "bn6wr2pe5tk7yq3mf"
			d.ReceivedAt, d.DecidedAt = at(10, 5, 52), at(10, 5, 52)
			d.Status = mortgage.StatusRegistered
			d.Registration = &mortgage.Registration{CertificateNumber: "黑(2026)齐齐哈尔市不动产证明第0000002号",
				RegisteredAt: d.DecidedAt, RecordingOfficer: "自动登簿",
				Ranks: []mortgage.UnitRank{{UnitNumber: a.Units[0].UnitNumber, Rank: 1}}}
			fee := mortgage.ComputeFee(a.Type, a.FeeExemption, []mortgage.FeeUnit{{Use: "commercial"}})
			d.Fee = &fee
		}},
		{"cancellation.response.json", "cancellation.request.json", func(t *testing.T, a *mortgage.Application, d *mortgage.Decision) {
			d.BundleID = "bc2fh6vd3na7sw4qe"
			d.ReceivedAt, d.DecidedAt = at(14, 20, 31), at(14, 20, 31)
			d.Status = mortgage.StatusRegistered
			d.Cancelled = &mortgage.Cancelled{CertificateNumber: normalCert(t, a.Cancellation.CertificateNumber),
				CancelledAt: d.DecidedAt, RecordingOfficer: "自动登簿"}
			fee := mortgage.ComputeFee(a.Type, "", nil)
			d.Fee = &fee
		}},
		{"rejected-seized.response.json", "rejected-seized.request.json", func(t *testing.T, a *mortgage.Application, d *mortgage.Decision) {
			d.BundleID = "bt5ka3xg7mc2rd6pw"
			d.ReceivedAt, d.DecidedAt = at(11, 17, 3), at(11, 17, 3)
			d.Status = mortgage.StatusRejected
			d.Reasons = mortgage.Issues{{Field: "units[0].unitNumber", Code: mortgage.CodeUnitSeized, Message: "该不动产已被查封，不能办理抵押登记"}}
		}},
	}
	for _, c := range cases {
		t.Run(c.answer, func(t *testing.T) {
			app, _, err := centrejson.Decode(example(t, c.request))
			if err != nil {
				t.Fatal(err)
			}
			d := &mortgage.Decision{Reference: app.Reference, Type: app.Type, Reasons: mortgage.Issues{}}
			c.decide(t, app, d)
			got, err := centrejson.EncodeDecision(d, shanghai)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.answer, got)
			if err := schemaErr(s, example(t, c.answer)); err != nil {
				t.Errorf("decision schema rejects %s: %v", c.answer, err)
			}
		})
	}

	// The schema's conditionals hold the decision's shape.
	registered := example(t, "first-general.response.json")
	for name, edit := range map[string]func(m map[string]any){
		"registered with reasons": func(m map[string]any) {
			m["reasons"] = []any{map[string]any{"field": "units", "code": "unit_seized", "message": "x"}}
		},
		"registered without fee":          func(m map[string]any) { delete(m, "fee") },
		"registered without registration": func(m map[string]any) { delete(m, "registration") },
		"rejected without reasons":        func(m map[string]any) { m["status"] = "rejected"; delete(m, "registration"); delete(m, "fee") },
		"rejected with registration": func(m map[string]any) {
			m["status"] = "rejected"
			m["reasons"] = []any{map[string]any{"field": "units", "code": "unit_seized", "message": "x"}}
		},
		"unknown status":    func(m map[string]any) { m["status"] = "pending" },
		"time without zone": func(m map[string]any) { m["decidedAt"] = "2026-11-26T09:41:07" },
		"fee as a number":   func(m map[string]any) { m["fee"].(map[string]any)["amount"] = 80 },
		"unknown field":     func(m map[string]any) { m["certificate"] = "x" },
		"rank zero":         func(m map[string]any) { ranks(m)[0].(map[string]any)["rank"] = 0 },
		"certificate with title-kind number": func(m map[string]any) {
			m["registration"].(map[string]any)["certificateNumber"] = "黑(2026)齐齐哈尔市不动产权第0000001号"
		},
	} {
		if err := schemaErr(s, edited(t, registered, edit)); err == nil {
			t.Errorf("decision schema accepts %s", name)
		}
	}
}

func ranks(m map[string]any) []any { return m["registration"].(map[string]any)["ranks"].([]any) }

// edited returns doc with edit applied to its top-level object.
func edited(t testing.TB, doc []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// obj and arr walk a decoded JSON document.
func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
func arr(m map[string]any, key string, i int) map[string]any {
	return m[key].([]any)[i].(map[string]any)
}

// serverVerdict decodes and validates a body as the server does before it
// looks at the register, and returns every fault code found.
func serverVerdict(body []byte) []mortgage.Code {
	app, decoded, err := centrejson.Decode(body)
	var se *centrejson.SyntaxError
	if errors.As(err, &se) {
		return []mortgage.Code{se.Code}
	}
	var codes []mortgage.Code
	for _, i := range merge(decoded, mortgage.Validate(app, exampleRules)) {
		codes = append(codes, i.Code)
	}
	return codes
}

// TestRequestSchemaAgreesWithServer checks the schema against the decoder and
// the validation rules: what the schema refuses the server refuses too, with
// the code given; what it accepts, the server accepts.
func TestRequestSchemaAgreesWithServer(t *testing.T) {
	s := compileSchema(t, requestSchema)
	general := example(t, "first-general.request.json")
	maximum := example(t, "first-maximum.request.json")
	cancel := example(t, "cancellation.request.json")
	withoutKind := func(kind string) func(m map[string]any) {
		return func(m map[string]any) {
			var keep []any
			for _, x := range m["materials"].([]any) {
				if x.(map[string]any)["kind"] != kind {
					keep = append(keep, x)
				}
			}
			m["materials"] = keep
		}
	}
	rejected := []struct {
		name string
		base []byte
		edit func(m map[string]any)
		code mortgage.Code // what the server says
	}{
		{"unknown field", general, func(m map[string]any) { m["foo"] = 1 }, centrejson.CodeUnknownField},
		{"unknown nested field", general, func(m map[string]any) { obj(m, "mortgage")["rate"] = "3.1" }, centrejson.CodeUnknownField},
		{"field name in another case", general, func(m map[string]any) { m["Remarks"] = m["remarks"]; delete(m, "remarks") }, centrejson.CodeUnknownField},
		{"amount 1e5", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = "1e5" }, mortgage.CodeAmountFormat},
		{"amount 12,000", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = "12,000" }, mortgage.CodeAmountFormat},
		{"amount with three decimals", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = "560000.001" }, mortgage.CodeAmountFormat},
		{"amount negative number", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = json.Number("-5") }, mortgage.CodeAmountFormat},
		{"amount number with three decimals", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = json.Number("1.005") }, mortgage.CodeAmountFormat},
		{"amount zero", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = "0.00" }, mortgage.CodeAmountNotPositive},
		{"amount zero number", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = json.Number("0") }, mortgage.CodeAmountNotPositive},
		{"amount too large", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = json.Number("1000000000000.01") }, mortgage.CodeAmountTooLarge},
		{"amount as boolean", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = true }, mortgage.CodeAmountFormat},
		{"general without principal", general, func(m map[string]any) { delete(obj(m, "mortgage"), "principalAmount") }, mortgage.CodeAmountNotPositive},
		{"general with maximum", general, func(m map[string]any) { obj(m, "mortgage")["maximumAmount"] = "100.00" }, mortgage.CodeNotAllowed},
		{"maximum without maximum", maximum, func(m map[string]any) { delete(obj(m, "mortgage"), "maximumAmount") }, mortgage.CodeAmountNotPositive},
		{"maximum with principal", maximum, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = "100.00" }, mortgage.CodeNotAllowed},
		{"first without mortgage", general, func(m map[string]any) { delete(m, "mortgage") }, mortgage.CodeRequired},
		{"first without units", general, func(m map[string]any) { delete(m, "units") }, mortgage.CodeRequired},
		{"first without mortgagors", general, func(m map[string]any) { m["mortgagors"] = []any{} }, mortgage.CodeRequired},
		{"first without title certificate", general, func(m map[string]any) { delete(arr(m, "units", 0), "titleCertificateNumber") }, mortgage.CodeRequired},
		{"first with cancellation", general, func(m map[string]any) {
			m["cancellation"] = map[string]any{"certificateNumber": "黑(2019)齐齐哈尔市不动产证明第0008812号", "reason": "x"}
		}, mortgage.CodeNotAllowed},
		{"cancellation without cancellation", cancel, func(m map[string]any) { delete(m, "cancellation") }, mortgage.CodeRequired},
		{"cancellation with mortgage", cancel, func(m map[string]any) {
			var g map[string]any
			_ = json.Unmarshal(general, &g)
			m["mortgage"] = g["mortgage"]
		}, mortgage.CodeNotAllowed},
		{"cancellation with fee exemption", cancel, func(m map[string]any) { m["feeExemption"] = "small_micro_enterprise" }, mortgage.CodeNotAllowed},
		{"cancellation of a title certificate", cancel, func(m map[string]any) {
			obj(m, "cancellation")["certificateNumber"] = "黑(2019)齐齐哈尔市不动产权第0008812号"
		}, mortgage.CodeCertNumberFormat},
		{"unit number 27 characters", general, func(m map[string]any) { arr(m, "units", 0)["unitNumber"] = "230202001001GB00023F0001050" }, mortgage.CodeUnitNumberFormat},
		{"unit number parcel code I", general, func(m map[string]any) { arr(m, "units", 0)["unitNumber"] = "230202001001GI00023F00010502" }, mortgage.CodeUnitNumberFormat},
		{"unit number lower case", general, func(m map[string]any) { arr(m, "units", 0)["unitNumber"] = "230202001001gb00023f00010502" }, mortgage.CodeUnitNumberFormat},
		{"title certificate short serial", general, func(m map[string]any) {
			arr(m, "units", 0)["titleCertificateNumber"] = "黑(2021)齐齐哈尔市不动产权第12345号"
		}, mortgage.CodeCertNumberFormat},
		{"title certificate of registration kind", general, func(m map[string]any) {
			arr(m, "units", 0)["titleCertificateNumber"] = "黑(2021)齐齐哈尔市不动产证明第0012345号"
		}, mortgage.CodeCertNumberFormat},
		{"date with slashes", general, func(m map[string]any) { obj(m, "mortgage")["debtStart"] = "2026/11/26" }, mortgage.CodeDateFormat},
		{"date not in the calendar", general, func(m map[string]any) { obj(m, "mortgage")["debtEnd"] = "2046-02-30" }, mortgage.CodeDateFormat},
		{"date with time", general, func(m map[string]any) { obj(m, "mortgage")["debtEnd"] = "2046-11-25T00:00:00+08:00" }, mortgage.CodeDateFormat},
		{"collateral kind 8", general, func(m map[string]any) { obj(m, "mortgage")["collateralKind"] = "8" }, mortgage.CodeCollateralUnknown},
		{"collateral kind as number", general, func(m map[string]any) { obj(m, "mortgage")["collateralKind"] = 2 }, centrejson.CodeWrongType},
		{"transfer restriction missing", general, func(m map[string]any) { delete(obj(m, "mortgage"), "transferRestricted") }, mortgage.CodeRequired},
		{"transfer restriction as string", general, func(m map[string]any) { obj(m, "mortgage")["transferRestricted"] = "false" }, centrejson.CodeWrongType},
		{"scope blank", general, func(m map[string]any) { obj(m, "mortgage")["scope"] = "   " }, mortgage.CodeRequired},
		{"type unknown", general, func(m map[string]any) { m["type"] = "mortgage_transfer" }, mortgage.CodeTypeUnknown},
		{"reference with a space", general, func(m map[string]any) { m["reference"] = "LJYH DY 0001" }, mortgage.CodeReferenceFormat},
		{"reference with Chinese", general, func(m map[string]any) { m["reference"] = "龙江-0001" }, mortgage.CodeReferenceFormat},
		{"reference too long", general, func(m map[string]any) { m["reference"] = strings.Repeat("A", 65) }, mortgage.CodeTooLong},
		{"reference missing", general, func(m map[string]any) { delete(m, "reference") }, mortgage.CodeRequired},
		{"id type 8", general, func(m map[string]any) { arr(m, "mortgagors", 0)["idType"] = "8" }, mortgage.CodeIDTypeUnknown},
		{"id type as number", general, func(m map[string]any) { arr(m, "mortgagors", 0)["idType"] = 1 }, centrejson.CodeWrongType},
		{"resident id with a letter", general, func(m map[string]any) { arr(m, "mortgagors", 0)["idNumber"] = "23020219850312033A" }, mortgage.CodeIDFormat},
		{"resident id 16 digits", general, func(m map[string]any) { arr(m, "mortgagors", 0)["idNumber"] = "2302028503120331" }, mortgage.CodeIDFormat},
		{"promise of an unknown kind", general, func(m map[string]any) {
			m["promises"] = []any{map[string]any{"kind": "selfie", "dueOn": "2026-11-30"}}
		}, mortgage.CodeMaterialKind},
		{"promise without a date", general, func(m map[string]any) {
			m["promises"] = []any{map[string]any{"kind": "business_licence"}}
		}, mortgage.CodeRequired},
		{"loan contract neither supplied nor promised", general, func(m map[string]any) {
			m["materials"] = dropKind(m["materials"].([]any), "loan_contract")
		}, mortgage.CodeMaterialMissing},
		{"credit code with O", general, func(m map[string]any) { obj(m, "mortgagee")["idNumber"] = "91230200MA1BANKO1Q" }, mortgage.CodeCreditFormat},
		{"party name missing", general, func(m map[string]any) { delete(obj(m, "agent"), "name") }, mortgage.CodeRequired},
		{"mortgagee missing", general, func(m map[string]any) { delete(m, "mortgagee") }, mortgage.CodeRequired},
		{"null agent", general, func(m map[string]any) { m["agent"] = nil }, ""},
		{"fee exemption for people", general, func(m map[string]any) { m["feeExemption"] = "small_micro_enterprise" }, mortgage.CodeFeeExemption},
		{"fee exemption unknown", maximum, func(m map[string]any) { m["feeExemption"] = "veteran" }, mortgage.CodeFeeExemption},
		{"remarks too long", general, func(m map[string]any) { m["remarks"] = strings.Repeat("长", 501) }, mortgage.CodeTooLong},
		{"no materials", general, func(m map[string]any) { m["materials"] = []any{} }, mortgage.CodeMaterialMissing},
		{"general without application form", general, withoutKind("application_form"), mortgage.CodeMaterialMissing},
		{"maximum without maximum contract", maximum, withoutKind("maximum_mortgage_contract"), mortgage.CodeMaterialMissing},
		{"agent without authorisation", general, withoutKind("authorisation"), mortgage.CodeMaterialMissing},
		{"material kind unknown", general, func(m map[string]any) { arr(m, "materials", 3)["kind"] = "photo" }, mortgage.CodeMaterialKind},
		{"material media type Word", general, func(m map[string]any) { arr(m, "materials", 0)["mediaType"] = "application/msword" }, mortgage.CodeMaterialMedia},
		{"material sha256 short", general, func(m map[string]any) {
			arr(m, "materials", 0)["sha256"] = strings.Repeat("a", 63)
		}, mortgage.CodeMaterialHash},
		{"material content not base64", general, func(m map[string]any) { arr(m, "materials", 0)["content"] = "%PDF-1.4" }, centrejson.CodeBase64},
		{"material content empty", general, func(m map[string]any) { arr(m, "materials", 0)["content"] = "" }, mortgage.CodeMaterialEmpty},
		{"material file name missing", general, func(m map[string]any) { delete(arr(m, "materials", 0), "fileName") }, mortgage.CodeRequired},
		{"units as string", general, func(m map[string]any) { m["units"] = "x" }, centrejson.CodeWrongType},
		{"too many units", general, func(m map[string]any) {
			us := make([]any, 51)
			for i := range us {
				us[i] = map[string]any{"unitNumber": fmt.Sprintf("230202001001GB00023F%08d", i+1), "titleCertificateNumber": "黑(2021)齐齐哈尔市不动产权第0012345号"}
			}
			m["units"] = us
		}, mortgage.CodeTooMany},
	}
	for _, c := range rejected {
		t.Run("rejects/"+c.name, func(t *testing.T) {
			body := edited(t, c.base, c.edit)
			if err := schemaErr(s, body); err == nil {
				t.Error("the schema accepts it")
			}
			codes := serverVerdict(body)
			switch {
			case c.code == "" && len(codes) > 0:
				t.Errorf("the server is lenient here by design, but says %v", codes)
			case c.code != "" && !slices.Contains(codes, c.code):
				t.Errorf("the server says %v, want %s among them", codes, c.code)
			}
		})
	}

	accepted := []struct {
		name string
		base []byte
		edit func(m map[string]any)
	}{
		{"amount as number", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = json.Number("560000.1") }},
		{"amount without decimals", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = "560000" }},
		{"amount with leading zero", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = "0.5" }},
		{"largest amount", general, func(m map[string]any) { obj(m, "mortgage")["principalAmount"] = "1000000000000.00" }},
		{"resident id with lower-case x", general, func(m map[string]any) { obj(m, "agent")["idNumber"] = "11010519491231002x" }},
		{"credit code in lower case", general, func(m map[string]any) { obj(m, "mortgagee")["idNumber"] = strings.ToLower(exampleBank) }},
		{"passport", general, func(m map[string]any) { obj(m, "agent")["idType"] = "3"; obj(m, "agent")["idNumber"] = "E12345678" }},
		{"full-width brackets", general, func(m map[string]any) {
			arr(m, "units", 0)["titleCertificateNumber"] = "黑（2021）齐齐哈尔市不动产权第0012345号"
		}},
		{"county title certificate", general, func(m map[string]any) {
			arr(m, "units", 0)["titleCertificateNumber"] = "黑(2018)讷河市不动产权第0001234号"
		}},
		{"debtors left out", general, func(m map[string]any) { delete(m, "debtors") }},
		{"agent left out", general, func(m map[string]any) { delete(m, "agent") }},
		{"remarks left out", general, func(m map[string]any) { delete(m, "remarks") }},
		{"upper-case sha256", general, func(m map[string]any) {
			arr(m, "materials", 0)["sha256"] = strings.ToUpper(arr(m, "materials", 0)["sha256"].(string))
		}},
		{"extra material", general, func(m map[string]any) {
			x := clone(arr(m, "materials", 0))
			x["kind"] = "other"
			m["materials"] = append(m["materials"].([]any), x)
		}},
		{"cancellation without units", cancel, func(m map[string]any) { delete(m, "units") }},
		{"old 15-digit resident id (checked against the register, then staff)", general, func(m map[string]any) {
			arr(m, "mortgagors", 0)["idNumber"] = "230202850312033"
		}},
		{"loan contract promised instead of supplied (容缺受理)", general, func(m map[string]any) {
			m["materials"] = dropKind(m["materials"].([]any), "loan_contract")
			m["promises"] = []any{map[string]any{"kind": "loan_contract", "dueOn": "2026-11-30"}}
		}},
		{"review requested", general, func(m map[string]any) { m["reviewRequest"] = "借款人为外籍人士，请人工核对护照信息" }},
		{"maximum without fee exemption", maximum, func(m map[string]any) { delete(m, "feeExemption") }},
		// Unless the centre switches the strict rules on (MORTGAGED_STRICT_RULES):
		// the mortgage clause may be in the loan contract (实施细则第六十六条), and
		// the mortgagee cancelling gives up its right without proving the debt gone.
		{"general without a separate mortgage contract", general, withoutKind("mortgage_contract")},
		{"cancellation without proof the debt is extinguished", cancel, withoutKind("debt_extinguished_proof")},
	}
	for _, c := range accepted {
		t.Run("accepts/"+c.name, func(t *testing.T) {
			body := edited(t, c.base, c.edit)
			if err := schemaErr(s, body); err != nil {
				t.Errorf("the schema rejects it: %v", err)
			}
			if codes := serverVerdict(body); len(codes) > 0 {
				t.Errorf("the server rejects it: %v", codes)
			}
		})
	}
}

// clone copies a JSON object one level deep.
func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestProblemSchema checks the problem schema against problems the server
// writes, and its conditionals.
func TestProblemSchema(t *testing.T) {
	s := compileSchema(t, problemSchema)
	good := []problem{
		{Type: "/docs/problems.md#json_unknown_field", Title: "请求无法解析", Status: 400, Detail: "未知字段 foo", Instance: "/v1/bundles",
			Code: centrejson.CodeUnknownField, Errors: mortgage.Issues{{Field: "foo", Code: centrejson.CodeUnknownField, Message: "未知字段 foo"}}},
		{Type: "/docs/problems.md#body_empty", Title: "请求无法解析", Status: 400, Detail: "请求体为空", Instance: "/v1/bundles", Code: centrejson.CodeEmpty},
		{Type: "/docs/problems.md#reference_conflict", Title: "业务编号已被使用", Status: 409, Detail: "…", Instance: "/v1/bundles",
			Code: "reference_conflict", BundleID: "bk3q7mzt4xw2ha5cd"},
		{Type: "/docs/problems.md#unauthenticated", Title: "身份验证失败", Status: 401, Detail: "…", Instance: "/v1/bundles", Code: "unauthenticated"},
		{Type: "/docs/problems.md#internal_error", Title: "服务器内部错误", Status: 500, Detail: "…", Instance: "/v1/bundles", Code: "internal_error"},
	}
	for _, p := range good {
		b, _ := json.Marshal(p)
		if err := schemaErr(s, b); err != nil {
			t.Errorf("schema rejects %s: %v", b, err)
		}
	}
	bad := map[string]problem{
		"422 without errors":      {Type: "/docs/problems.md#validation_failed", Title: "申请未通过校验", Status: 422, Code: "validation_failed"},
		"409 without bundle":      {Type: "/docs/problems.md#reference_conflict", Title: "业务编号已被使用", Status: 409, Code: "reference_conflict"},
		"status 200":              {Type: "/docs/problems.md#not_found", Title: "未找到", Status: 200, Code: "not_found"},
		"type outside the docs":   {Type: "about:blank", Title: "未找到", Status: 404, Code: "not_found"},
		"code with capitals":      {Type: "/docs/problems.md#NotFound", Title: "未找到", Status: 404, Code: "NotFound"},
		"empty title":             {Type: "/docs/problems.md#not_found", Status: 404, Code: "not_found"},
		"issue without a message": {Type: "/docs/problems.md#validation_failed", Title: "申请未通过校验", Status: 422, Code: "validation_failed", Errors: mortgage.Issues{{Field: "units", Code: "required"}}},
	}
	for name, p := range bad {
		b, _ := json.Marshal(p)
		if err := schemaErr(s, b); err == nil {
			t.Errorf("schema accepts %s: %s", name, b)
		}
	}
}

// codeSources are the files that define the codes partners see.
var codeSources = []string{
	"../../mortgage/*.go",
	"../../mortgage/calendar/*.go",
	"../../partners/formats/*.go",
	"../../partners/centrejson/*.go",
	"../../server/*.go",
}

func TestDocsListEveryCode(t *testing.T) {
	codes := doccheck.Codes(t, codeSources...)
	problems := string(readFile(t, filepath.Join(docsDir, "problems.md")))
	for code, where := range codes {
		if !strings.Contains(problems, `<a id="`+code+`"></a>`) {
			t.Errorf("docs/problems.md has no anchor for %s (%s)", code, where)
		}
	}
	doccheck.Listed(t, filepath.Join(formatsDir, "centre-json-v1.md"), codes)
}

// TestDocsLinks checks that every relative link in the format documents
// points at a file that exists and, with a fragment, at an anchor in it.
func TestDocsLinks(t *testing.T) {
	doccheck.Links(t, filepath.Join(docsDir, "problems.md"), filepath.Join(formatsDir, "centre-json-v1.md"))
}

func dropKind(materials []any, kind string) []any {
	var out []any
	for _, m := range materials {
		if m.(map[string]any)["kind"] != kind {
			out = append(out, m)
		}
	}
	return out
}
