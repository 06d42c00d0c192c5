package xmlmap_test

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
	"mortgaged/partners/dialects"
	"mortgaged/partners/internal/xsdcheck"
	"mortgaged/partners/xmlmap"
)

// Each shipped dialect has a sample of every JSON example in
// docs/examples/xml/<dialect>/, decoding to the very application its JSON
// twin decodes to, and answer samples that are exactly what the encoders
// write; all validate against docs/formats/dialect-<dialect>.xsd.
// `-update` rewrites the answer samples, `-write-samples` the requests.
var (
	update       = flag.Bool("update", false, "rewrite the dialect answer samples")
	writeSamples = flag.Bool("write-samples", false, "regenerate the dialect request samples from the JSON examples")
)

const (
	jsonExamples = "../../docs/examples"
	xmlExamples  = "../../docs/examples/xml"
	formatsDir   = "../../docs/formats"
)

var (
	exampleRules = mortgage.Rules{Today: mortgage.NewDate(2026, time.November, 26), PartnerCreditCode: "91230200MA1BANK01Q"}
	shanghai     = time.FixedZone("CST", 8*3600)
	exampleNames = []string{"first-general", "first-maximum", "cancellation", "rejected-seized", "invalid"}
)

func shipped(t testing.TB) *xmlmap.Set {
	t.Helper()
	set, err := xmlmap.Load(dialects.Files)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func dialect(t testing.TB, name string) *xmlmap.Dialect {
	t.Helper()
	d, err := shipped(t).Dialect(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func samplePath(dialect, file string) string { return filepath.Join(xmlExamples, dialect, file) }
func xsd(dialect string) string              { return filepath.Join(formatsDir, "dialect-"+dialect+".xsd") }

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := readFile(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code writes (run with -update after a deliberate change):\n%s", path, got)
	}
}

func TestShippedDialects(t *testing.T) {
	if got := strings.Join(shipped(t).Names(), ","); got != "nested-attr,pinyin-flat" {
		t.Errorf("shipped dialects %s", got)
	}
	if _, err := shipped(t).Dialect("no-such-bank"); err == nil {
		t.Error("an unknown dialect should be an error")
	}
	// The directory loader reads the same files.
	set, err := xmlmap.LoadDir("../dialects")
	if err != nil || len(set.Names()) != 2 {
		t.Errorf("LoadDir: %v %v", set, err)
	}
}

// TestWriteSamples regenerates the request samples from the JSON examples;
// the invalid sample keeps the unreadable amount its JSON twin has.
func TestWriteSamples(t *testing.T) {
	if !*writeSamples {
		t.Skip("run with -write-samples to regenerate docs/examples/xml/<dialect>/*.request.xml")
	}
	for _, dn := range shipped(t).Names() {
		d := dialect(t, dn)
		if err := os.MkdirAll(filepath.Join(xmlExamples, dn), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range exampleNames {
			app, _, err := centrejson.Decode(readFile(t, filepath.Join(jsonExamples, name+".request.json")))
			if err != nil {
				t.Fatal(err)
			}
			b, err := d.EncodeApplication(app)
			if err != nil {
				t.Fatal(err)
			}
			if name == "invalid" {
				switch dn {
				case "pinyin-flat":
					b = bytes.Replace(b, []byte("<ZWLXQSSJ>"), []byte("<BDBZZQSE>12,000</BDBZZQSE>\n  <ZWLXQSSJ>"), 1)
				case "nested-attr":
					b = bytes.Replace(b, []byte(`<Loan type="ORDINARY"`), []byte(`<Loan type="ORDINARY" amountWan="1,2"`), 1)
				}
			}
			if err := os.WriteFile(samplePath(dn, name+".request.xml"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestSamplesMatchJSON: every dialect sample is the same application as its
// JSON twin (canonical bytes and document contents equal).
func TestSamplesMatchJSON(t *testing.T) {
	for _, dn := range shipped(t).Names() {
		d := dialect(t, dn)
		for _, name := range exampleNames {
			t.Run(dn+"/"+name, func(t *testing.T) {
				want, wantIssues, err := centrejson.Decode(readFile(t, filepath.Join(jsonExamples, name+".request.json")))
				if err != nil {
					t.Fatal(err)
				}
				got, gotIssues, err := d.Decode(readFile(t, samplePath(dn, name+".request.xml")))
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if c1, c2 := got.Canonical(), want.Canonical(); !bytes.Equal(c1, c2) {
					t.Errorf("canonical forms differ:\n%s: %s\nJSON: %s", dn, c1, c2)
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
					if is := mortgage.Validate(got, exampleRules); len(is) > 0 {
						t.Errorf("validation issues: %+v", is)
					}
				}
			})
		}
	}
}

func at(hh, mm, ss int) time.Time { return time.Date(2026, time.November, 26, hh, mm, ss, 0, shanghai) }

// exampleDecisions are the decisions docs/examples/*.response.json show.
func exampleDecisions(t *testing.T) map[string]*mortgage.Decision {
	t.Helper()
	cert := "黑(2026)齐齐哈尔市不动产证明第0000001号"
	general := mortgage.ComputeFee(mortgage.FirstGeneral, "", []mortgage.FeeUnit{{Use: "residential"}})
	sme := mortgage.ComputeFee(mortgage.FirstMaximum, mortgage.FeeExemptionSME, nil)
	free := mortgage.ComputeFee(mortgage.Cancellation, "", nil)
	return map[string]*mortgage.Decision{
		"first-general": {BundleID: "bk3q7mzt4xw2ha5cd", Reference: "LJYH-DY-20261126-0001", Type: mortgage.FirstGeneral,
			Status: mortgage.StatusRegistered, ReceivedAt: at(9, 41, 7), DecidedAt: at(9, 41, 7), Reasons: mortgage.Issues{},
			Registration: &mortgage.Registration{CertificateNumber: cert, RegisteredAt: at(9, 41, 7), RecordingOfficer: "自动登簿",
				Ranks: []mortgage.UnitRank{{UnitNumber: "230202001001GB00023F00010502", Rank: 1}}}, Fee: &general},
		"first-maximum": {BundleID: "bn6wr2pe5tk7yq3mf", Reference: "LJYH-DY-20261126-0002", Type: mortgage.FirstMaximum,
			Status: mortgage.StatusRegistered, ReceivedAt: at(10, 5, 52), DecidedAt: at(10, 5, 52), Reasons: mortgage.Issues{},
			Registration: &mortgage.Registration{CertificateNumber: "黑(2026)齐齐哈尔市不动产证明第0000002号", RegisteredAt: at(10, 5, 52),
				RecordingOfficer: "自动登簿", Ranks: []mortgage.UnitRank{{UnitNumber: "230203002004GB00108F00020101", Rank: 1}}}, Fee: &sme},
		"cancellation": {BundleID: "bc2fh6vd3na7sw4qe", Reference: "LJYH-ZX-20261126-0003", Type: mortgage.Cancellation,
			Status: mortgage.StatusRegistered, ReceivedAt: at(14, 20, 31), DecidedAt: at(14, 20, 31), Reasons: mortgage.Issues{},
			Cancelled: &mortgage.Cancelled{CertificateNumber: "黑(2019)齐齐哈尔市不动产证明第0008812号", CancelledAt: at(14, 20, 31), RecordingOfficer: "自动登簿"},
			Fee:       &free},
		"rejected-seized": {BundleID: "bt5ka3xg7mc2rd6pw", Reference: "LJYH-DY-20261126-0004", Type: mortgage.FirstGeneral,
			Status: mortgage.StatusRejected, ReceivedAt: at(11, 17, 3), DecidedAt: at(11, 17, 3),
			Reasons: mortgage.Issues{{Field: "units[0].unitNumber", Code: mortgage.CodeUnitSeized, Message: "该不动产已被查封，不能办理抵押登记"}}},
	}
}

// merge is what the server does with decode and validation issues, in a
// stable order.
func merge(decoded, validated mortgage.Issues) mortgage.Issues {
	return mortgage.MergeIssues(decoded, validated).Sorted()
}

// TestSampleAnswers: answer samples in each dialect are what the encoders
// write; requests, answers, problems and events all pass the dialect's XSD.
func TestSampleAnswers(t *testing.T) {
	cert := &mortgage.IssuedCertificate{Number: "黑(2026)齐齐哈尔市不动产证明第0000001号", VerificationCode: "7KQ2-M9XD", Status: "valid",
		KeyID: "k2026", XML: []byte("<certificate/>"), XMLSignature: []byte{1, 2, 3}}
	for _, dn := range shipped(t).Names() {
		d := dialect(t, dn)
		t.Run(dn, func(t *testing.T) {
			var files []string
			for name, dec := range exampleDecisions(t) {
				b, err := d.EncodeDecision(dec, shanghai)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, samplePath(dn, name+".response.xml"), b)
				files = append(files, samplePath(dn, name+".response.xml"), samplePath(dn, name+".request.xml"))
			}

			app, decoded, err := d.Decode(readFile(t, samplePath(dn, "invalid.request.xml")))
			if err != nil {
				t.Fatal(err)
			}
			issues := merge(decoded, mortgage.Validate(app, exampleRules))
			if len(issues) != 5 {
				t.Fatalf("invalid sample: %d issues, want the 5 of invalid.problem.json: %+v", len(issues), issues)
			}
			b, err := d.EncodeProblem(fault.Problem{Type: "/docs/problems.md#validation_failed", Title: "申请未通过校验", Status: 422,
				Detail: "申请有 " + strconv.Itoa(len(issues)) + " 处问题，见 errors；未作任何登记。", Instance: "/v1/bundles", Code: "validation_failed", Errors: issues})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, samplePath(dn, "invalid.problem.xml"), b)
			files = append(files, samplePath(dn, "invalid.problem.xml"))

			b, err = d.EncodeEvent(mortgage.Event{ID: "evt_0123456789abcdef01234567", Type: mortgage.EventRegistered, OccurredAt: at(9, 41, 7),
				Decision: exampleDecisions(t)["first-general"], Certificate: cert}, shanghai)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, samplePath(dn, "first-general.event.xml"), b)
			files = append(files, samplePath(dn, "first-general.event.xml"))
			xsdcheck.Files(t, xsd(dn), files...)

			if !xsdcheck.Rejects(t, xsd(dn), readFile(t, samplePath(dn, "invalid.request.xml"))) {
				t.Error("the XSD accepts the invalid sample")
			}
		})
	}
}

// deskDecision is a bundle sent to staff: a promised document (容缺受理),
// one already supplied.
func deskDecision() *mortgage.Decision {
	deadline, fulfilled := at(17, 30, 0), at(15, 2, 0)
	return &mortgage.Decision{BundleID: "bd7xk2mq9tw4ne6ra", Reference: "LJYH-DY-20261126-0009", Type: mortgage.FirstGeneral,
		Status: mortgage.StatusDesk, ReceivedAt: at(10, 0, 0), Reasons: mortgage.Issues{}, Deadline: &deadline,
		DeskReasons: mortgage.Issues{{Field: "promises[0]", Code: "promised_document", Message: "容缺受理：承诺日后补交材料"}},
		Promises:    []mortgage.PromiseState{{Kind: "identity_document", DueOn: mortgage.NewDate(2026, time.November, 30), FulfilledAt: &fulfilled}}}
}

// TestPromisesAndDesk: 容缺受理 and review requests travel in every dialect
// as in JSON v1, and a bundle sent to staff is answered in the dialect.
func TestPromisesAndDesk(t *testing.T) {
	js := strings.Replace(string(readFile(t, filepath.Join(jsonExamples, "first-general.request.json"))), `"materials": [`,
		`"promises": [{"kind": "identity_document", "dueOn": "2026-11-30"}], "reviewRequest": "借款人为外籍人士，请人工核实", "materials": [`, 1)
	want, is, err := centrejson.Decode([]byte(js))
	if err != nil || len(is) > 0 {
		t.Fatalf("JSON: %v %+v", err, is)
	}
	for _, dn := range shipped(t).Names() {
		t.Run(dn, func(t *testing.T) {
			d := dialect(t, dn)
			b, err := d.EncodeApplication(want)
			if err != nil {
				t.Fatal(err)
			}
			got, is, err := d.Decode(b)
			if err != nil || len(is) > 0 {
				t.Fatalf("%v %+v", err, is)
			}
			if !bytes.Equal(got.Canonical(), want.Canonical()) {
				t.Errorf("canonical forms differ:\n%s: %s\nJSON: %s", dn, got.Canonical(), want.Canonical())
			}
			desk, err := d.EncodeDecision(deskDecision(), shanghai)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, samplePath(dn, "desk.response.xml"), desk)
			xsdcheck.Docs(t, xsd(dn), xsdcheck.Doc{Name: "promises.request", Body: b}, xsdcheck.Doc{Name: "desk.response", Body: desk})
		})
	}
}
