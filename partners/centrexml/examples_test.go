package centrexml_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/centrexml"
	"mortgaged/partners/internal/xsdcheck"
)

// The XML examples mirror the JSON ones: each request decodes to the very
// application its JSON twin decodes to, passes the request XSD (except the
// invalid one) and each answer is exactly what the encoders write, passing
// the answers XSD. `go test ./partners/centrexml -update` rewrites the
// answers after a deliberate change; `-write-requests` regenerates the
// request examples from the JSON ones.
var (
	update        = flag.Bool("update", false, "rewrite the XML answer examples in docs/examples/xml")
	writeRequests = flag.Bool("write-requests", false, "regenerate the XML request examples from the JSON ones")
)

const (
	jsonExamples = "../../docs/examples"
	xmlExamples  = "../../docs/examples/xml"
	formatsDir   = "../../docs/formats"
)

var (
	requestXSD = filepath.Join(formatsDir, "centre-xml-v1.xsd")
	answersXSD = filepath.Join(formatsDir, "centre-xml-v1-answers.xsd")
)

// The examples are submitted by 龙江示范银行齐齐哈尔分行 on Thursday 26
// November 2026, business time.
var (
	exampleToday = mortgage.NewDate(2026, time.November, 26)
	exampleRules = mortgage.Rules{Today: exampleToday, PartnerCreditCode: "91230200MA1BANK01Q"}
	shanghai     = time.FixedZone("CST", 8*3600)
)

var exampleNames = []string{"first-general", "first-maximum", "cancellation", "rejected-seized", "invalid"}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares an outgoing document with its file, or rewrites it.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := readFile(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code writes (run with -update after a deliberate change):\n%s", filepath.Base(path), got)
	}
}

// TestWriteRequests regenerates the request examples from the JSON ones;
// the invalid example keeps the unreadable amount the JSON one has.
func TestWriteRequests(t *testing.T) {
	if !*writeRequests {
		t.Skip("run with -write-requests to regenerate docs/examples/xml/*.request.xml")
	}
	for _, name := range exampleNames {
		app, _, err := centrejson.Decode(readFile(t, filepath.Join(jsonExamples, name+".request.json")))
		if err != nil {
			t.Fatal(err)
		}
		b, err := centrexml.EncodeApplication(app)
		if err != nil {
			t.Fatal(err)
		}
		if name == "invalid" {
			b = bytes.Replace(b, []byte("<collateralKind>2</collateralKind>"),
				[]byte("<collateralKind>2</collateralKind>\n    <principalAmount>12,000</principalAmount>"), 1)
		}
		if err := os.WriteFile(filepath.Join(xmlExamples, name+".request.xml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExampleRequestsMatchJSON: each XML request is the same application as
// its JSON twin, byte for byte in canonical form and in document content.
func TestExampleRequestsMatchJSON(t *testing.T) {
	for _, name := range exampleNames {
		t.Run(name, func(t *testing.T) {
			want, wantIssues, err := centrejson.Decode(readFile(t, filepath.Join(jsonExamples, name+".request.json")))
			if err != nil {
				t.Fatal(err)
			}
			got, gotIssues, err := centrexml.Decode(readFile(t, filepath.Join(xmlExamples, name+".request.xml")))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if c1, c2 := got.Canonical(), want.Canonical(); !bytes.Equal(c1, c2) {
				t.Errorf("canonical forms differ:\nXML:  %s\nJSON: %s", c1, c2)
			}
			for i := range want.Materials {
				if !bytes.Equal(got.Materials[i].Content, want.Materials[i].Content) {
					t.Errorf("materials[%d] content differs", i)
				}
			}
			if len(gotIssues) != len(wantIssues) {
				t.Fatalf("decode issues %+v, JSON has %+v", gotIssues, wantIssues)
			}
			for i := range wantIssues {
				if gotIssues[i].Field != wantIssues[i].Field || gotIssues[i].Code != wantIssues[i].Code {
					t.Errorf("decode issue %+v, JSON has %+v", gotIssues[i], wantIssues[i])
				}
			}
			if name != "invalid" {
				if len(gotIssues) > 0 {
					t.Errorf("decode issues: %+v", gotIssues)
				}
				if is := mortgage.Validate(got, exampleRules); len(is) > 0 {
					t.Errorf("validation issues: %+v", is)
				}
			}
		})
	}
}

func TestExampleRequestsValidate(t *testing.T) {
	var valid []string
	for _, name := range exampleNames {
		if name != "invalid" {
			valid = append(valid, filepath.Join(xmlExamples, name+".request.xml"))
		}
	}
	xsdcheck.Files(t, requestXSD, valid...)
	if !xsdcheck.Rejects(t, requestXSD, readFile(t, filepath.Join(xmlExamples, "invalid.request.xml"))) {
		t.Error("the request XSD accepts invalid.request.xml")
	}
}

func at(hh, mm, ss int) time.Time { return time.Date(2026, time.November, 26, hh, mm, ss, 0, shanghai) }

// exampleDecisions are the decisions docs/examples/*.response.json show.
func exampleDecisions(t *testing.T) map[string]*mortgage.Decision {
	t.Helper()
	out := map[string]*mortgage.Decision{}
	for _, name := range []string{"first-general", "first-maximum", "cancellation", "rejected-seized"} {
		app, _, err := centrexml.Decode(readFile(t, filepath.Join(xmlExamples, name+".request.xml")))
		if err != nil {
			t.Fatal(err)
		}
		d := &mortgage.Decision{Reference: app.Reference, Type: app.Type, Reasons: mortgage.Issues{}}
		switch name {
		case "first-general", "first-maximum":
			d.BundleID, d.ReceivedAt, d.DecidedAt = "bk3q7mzt4xw2ha5cd", at(9, 41, 7), at(9, 41, 7)
			cert, use := "黑(2026)齐齐哈尔市不动产证明第0000001号", "residential"
			if name == "first-maximum" {
				d.BundleID, d.ReceivedAt, d.DecidedAt = "bn6wr2pe5tk7yq3mf", at(10, 5, 52), at(10, 5, 52)
				cert, use = "黑(2026)齐齐哈尔市不动产证明第0000002号", "commercial"
			}
			d.Status = mortgage.StatusRegistered
			d.Registration = &mortgage.Registration{CertificateNumber: cert, RegisteredAt: d.DecidedAt, RecordingOfficer: "自动登簿",
				Ranks: []mortgage.UnitRank{{UnitNumber: app.Units[0].UnitNumber, Rank: 1}}}
			fee := mortgage.ComputeFee(app.Type, app.FeeExemption, []mortgage.FeeUnit{{Use: use}})
			d.Fee = &fee
		case "cancellation":
			d.BundleID, d.ReceivedAt, d.DecidedAt = "bc2fh6vd3na7sw4qe", at(14, 20, 31), at(14, 20, 31)
			d.Status = mortgage.StatusRegistered
			c, err := mortgage.ParseCertificateNumber(app.Cancellation.CertificateNumber)
			if err != nil {
				t.Fatal(err)
			}
			d.Cancelled = &mortgage.Cancelled{CertificateNumber: c.String(), CancelledAt: d.DecidedAt, RecordingOfficer: "自动登簿"}
			fee := mortgage.ComputeFee(app.Type, "", nil)
			d.Fee = &fee
		case "rejected-seized":
			d.BundleID, d.ReceivedAt, d.DecidedAt = "bt5ka3xg7mc2rd6pw", at(11, 17, 3), at(11, 17, 3)
			d.Status = mortgage.StatusRejected
			d.Reasons = mortgage.Issues{{Field: "units[0].unitNumber", Code: mortgage.CodeUnitSeized, Message: "该不动产已被查封，不能办理抵押登记"}}
		}
		out[name] = d
	}
	return out
}

// TestExampleAnswers: every answer example is what EncodeDecision writes and
// says what its JSON twin says; all pass the answers XSD.
func TestExampleAnswers(t *testing.T) {
	var docs []string
	for name, d := range exampleDecisions(t) {
		t.Run(name, func(t *testing.T) {
			got, err := centrexml.EncodeDecision(d, shanghai)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(xmlExamples, name+".response.xml"), got)
			want, err := centrejson.EncodeDecision(d, shanghai)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, mustJSON(t, filepath.Join(jsonExamples, name+".response.json"))) {
				t.Errorf("the decision here is not the one %s.response.json shows", name)
			}
		})
		docs = append(docs, filepath.Join(xmlExamples, name+".response.xml"))
	}
	deadline, fulfilled := at(17, 30, 0), at(15, 2, 0)
	desk := &mortgage.Decision{BundleID: "bd7xk2mq9tw4ne6ra", Reference: "LJYH-DY-20261126-0009", Type: mortgage.FirstGeneral,
		Status: mortgage.StatusDesk, ReceivedAt: at(10, 0, 0), Reasons: mortgage.Issues{}, Deadline: &deadline,
		DeskReasons: mortgage.Issues{{Field: "promises[0]", Code: "promised_document", Message: "容缺受理：承诺日后补交材料"}},
		Promises:    []mortgage.PromiseState{{Kind: "identity_document", DueOn: mortgage.NewDate(2026, time.November, 30), FulfilledAt: &fulfilled}}}
	b, err := centrexml.EncodeDecision(desk, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join(xmlExamples, "desk.response.xml"), b)
	docs = append(docs, filepath.Join(xmlExamples, "desk.response.xml"))
	xsdcheck.Files(t, answersXSD, docs...)
}

// mustJSON compacts a JSON example for comparison with EncodeDecision.
func mustJSON(t *testing.T, path string) []byte {
	var b bytes.Buffer
	if err := compactJSON(&b, readFile(t, path)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// merge is what the server does with decode and validation issues, in a
// stable order.
func merge(decoded, validated mortgage.Issues) mortgage.Issues {
	return mortgage.MergeIssues(decoded, validated).Sorted()
}

// TestExampleInvalid: invalid.problem.xml is the 422 for invalid.request.xml,
// with the same five faults as invalid.problem.json, each named in XML terms.
func TestExampleInvalid(t *testing.T) {
	app, decoded, err := centrexml.Decode(readFile(t, filepath.Join(xmlExamples, "invalid.request.xml")))
	if err != nil {
		t.Fatal(err)
	}
	issues := merge(decoded, mortgage.Validate(app, exampleRules))
	if len(issues) != 5 {
		t.Fatalf("got %d issues, want the 5 of invalid.problem.json: %+v", len(issues), issues)
	}
	p := fault.Problem{
		Type: "/docs/problems.md#validation_failed", Title: "申请未通过校验", Status: 422,
		Detail:   "申请有 " + strconv.Itoa(len(issues)) + " 处问题，见 errors；未作任何登记。",
		Instance: "/v1/bundles", Code: "validation_failed", Errors: issues,
	}
	got, err := centrexml.EncodeProblem(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(xmlExamples, "invalid.problem.xml")
	golden(t, path, got)
	for _, want := range []string{
		"<field>/application/mortgagors/mortgagor[1]/idNumber</field>",
		"<canonicalField>mortgagors[0].idNumber</canonicalField>",
		"<field>/application/units/unit[1]/titleCertificateNumber</field>",
		"<field>/application/mortgage/principalAmount</field>",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("problem lacks %s", want)
		}
	}
	xsdcheck.Files(t, answersXSD, path)
}
