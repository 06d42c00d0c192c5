package fundbatch_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mortgaged/mortgage"
	"mortgaged/partners/fundbatch"
	"mortgaged/partners/internal/xsdcheck"
)

var updateEvents = flag.Bool("update-events", false, "rewrite the fund centre's event golden files in testdata")

// TestEvents: the fund centre's events, one document each and gathered into
// a file, byte for byte against golden files and valid against the XSD.
func TestEvents(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, loc)
	deadline := time.Date(2026, 11, 26, 17, 30, 0, 0, loc)
	events := []mortgage.Event{
		{ID: "evt_0123456789abcdef01234567", Type: mortgage.EventRegistered, OccurredAt: at,
			Decision: &mortgage.Decision{BundleID: "bk3q7mzt4xw2ha5cd", Reference: "GJJ-2026-118790", Type: mortgage.FirstGeneral, Status: mortgage.StatusRegistered,
				ReceivedAt: at, DecidedAt: at, Registration: &mortgage.Registration{CertificateNumber: "黑(2026)齐齐哈尔市不动产证明第0000001号", RegisteredAt: at, RecordingOfficer: "自动登簿"}},
			Certificate: &mortgage.IssuedCertificate{Number: "黑(2026)齐齐哈尔市不动产证明第0000001号", Status: "valid", VerificationCode: "7KQ2M9XDPA",
				KeyID: "k2026-1a4768ff", JSON: []byte(`{"number":"黑(2026)齐齐哈尔市不动产证明第0000001号"}`), JSONSignature: []byte{1, 2, 3, 4}}},
		{ID: "evt_1123456789abcdef01234567", Type: mortgage.EventDesk, OccurredAt: at,
			Decision: &mortgage.Decision{BundleID: "bt5ka3xg7mc2rd6pw", Reference: "GJJ-2026-118791", Type: mortgage.FirstGeneral, Status: mortgage.StatusDesk,
				ReceivedAt: at, Deadline: &deadline, DeskReasons: mortgage.Issues{{Field: "reviewRequest", Code: mortgage.DeskPartnerRequested, Message: "申请机构请求人工审核"}}}},
		{ID: "evt_2123456789abcdef01234567", Type: mortgage.EventBatchFinished, OccurredAt: at,
			Batch: &mortgage.Batch{ID: "p1", BatchHeader: mortgage.BatchHeader{Number: "GJJ-20261126-01", Records: 3}, Registered: 2, Rejected: 1}},
	}
	var docs []xsdcheck.Doc
	var bodies [][]byte
	for _, e := range events {
		b, err := fundbatch.EncodeEvent(e, loc)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
		name := "event-" + strings.ReplaceAll(string(e.Type), ".", "-") + ".golden.xml"
		golden(t, name, b)
		docs = append(docs, xsdcheck.Doc{Name: name, Body: b})
	}
	file, err := fundbatch.EventFile(bodies, at, loc)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "event-file.golden.xml", file)
	docs = append(docs, xsdcheck.Doc{Name: "event-file.xml", Body: file})
	xsdcheck.Docs(t, filepath.Join("..", "..", "docs", "formats", "fund-events-v1.xsd"), docs...)
	if _, err := fundbatch.EventFile([][]byte{[]byte(`{"id":"json"}`)}, at, loc); err == nil {
		t.Error("a JSON payload was gathered into the XML file")
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateEvents {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-events to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code writes (run with -update-events after a deliberate change):\n%s", name, got)
	}
}
