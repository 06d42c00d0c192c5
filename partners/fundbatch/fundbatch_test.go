package fundbatch_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/fundbatch"
	"mortgaged/partners/internal/xsdcheck"
	"mortgaged/partners/xmlsafe"
)

var (
	update       = flag.Bool("update", false, "rewrite the results sample")
	writeSamples = flag.Bool("write-samples", false, "regenerate the batch sample")
)

const (
	sampleDir  = "../../docs/examples/xml/fund-batch"
	formatsDir = "../../docs/formats"
)

var (
	batchXSD   = filepath.Join(formatsDir, "fund-batch-v1.xsd")
	resultsXSD = filepath.Join(formatsDir, "fund-batch-results-v1.xsd")
	fundCentre = mortgage.Party{Name: "齐齐哈尔市住房公积金管理中心", IDType: mortgage.IDCreditCode, IDNumber: "12230200MB1GJJ0012"}
	batchDate  = mortgage.NewDate(2026, time.November, 26)
	rules      = mortgage.Rules{Today: batchDate, PartnerCreditCode: fundCentre.IDNumber}
	shanghai   = time.FixedZone("CST", 8*3600)
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func generate(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := fundbatch.Generate(&b, fundbatch.GenerateOptions{BatchNumber: "GJJ-20261126-001", Date: batchDate, Records: n, Mortgagee: fundCentre}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestWriteSample regenerates the sample: three records, the second with a
// mistyped resident ID (a bad record, not a bad file).
func TestWriteSample(t *testing.T) {
	if !*writeSamples {
		t.Skip("run with -write-samples to regenerate docs/examples/xml/fund-batch/batch.xml")
	}
	b := generate(t, 3)
	bad := fundbatch.GeneratedHolding(1).Owner.IDNumber
	wrong := bad[:17] + map[bool]string{true: "1", false: "0"}[bad[17] == '0']
	b = bytes.Replace(b, []byte("<DYRZJH>"+bad), []byte("<DYRZJH>"+wrong), 1)
	if err := os.MkdirAll(sampleDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sampleDir, "batch.xml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// decodeAll decodes a batch and returns its records.
func decodeAll(t *testing.T, body []byte) (fundbatch.Header, []fundbatch.Record, error) {
	t.Helper()
	var recs []fundbatch.Record
	h, err := fundbatch.Decode(bytes.NewReader(body), func(r fundbatch.Record) error {
		recs = append(recs, r)
		return nil
	})
	return h, recs, err
}

// merge is what the server does with decode and validation issues, in a
// stable order.
func merge(decoded, validated mortgage.Issues) mortgage.Issues {
	return mortgage.MergeIssues(decoded, validated).Sorted()
}

func TestSample(t *testing.T) {
	body := readFile(t, filepath.Join(sampleDir, "batch.xml"))
	xsdcheck.Files(t, batchXSD, filepath.Join(sampleDir, "batch.xml"))
	h, recs, err := decodeAll(t, body)
	if err != nil {
		t.Fatal(err)
	}
	if h.BatchNumber != "GJJ-20261126-001" || h.Records != 3 || h.Date != batchDate || h.Mortgagee != fundCentre {
		t.Errorf("header %+v", h)
	}
	if want := int64(200_000+201_000+202_000) * 100; h.TotalFen != want {
		t.Errorf("total %d, want %d", h.TotalFen, want)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		if r.Index != i || r.Path != fmt.Sprintf("/GJJDYPL/JL[%d]", i+1) || r.Application == nil || len(r.Issues) > 0 {
			t.Fatalf("record %d: %+v", i, r)
		}
		if r.Application.Mortgagee != fundCentre || r.Application.Type != mortgage.FirstGeneral || r.Reference != r.Application.Reference {
			t.Errorf("record %d: %+v", i, r.Application)
		}
		is := merge(r.Issues, mortgage.Validate(r.Application, rules))
		switch {
		case i == 1 && (len(is) != 1 || is[0].Code != mortgage.CodeIDCheckDigit):
			t.Errorf("record 2 should fail only its ID check digit: %+v", is)
		case i != 1 && len(is) > 0:
			t.Errorf("record %d: %+v", i+1, is)
		}
	}
	if got := recs[1].FieldPath("mortgagors[0].idNumber"); got != "/GJJDYPL/JL[2]/DYR[1]/DYRZJH" {
		t.Errorf("FieldPath = %s", got)
	}
}

// TestResults: the results file for the sample is what the writer writes,
// and passes its XSD.
func TestResults(t *testing.T) {
	var b bytes.Buffer
	w, err := fundbatch.NewResultsWriter(&b, fundbatch.ResultsHeader{BatchNumber: "GJJ-20261126-001", Records: 3, Registered: 1, Rejected: 1, Staff: 1,
		GeneratedAt: time.Date(2026, time.November, 26, 16, 30, 0, 0, shanghai)}, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	results := []fundbatch.Result{
		{Index: 0, Reference: "GJJ-20261126-001-000001", Status: fundbatch.ResultRegistered, BundleID: "bq4mz7tk2wx9ha3cd",
			CertificateNumber: "黑(2026)齐齐哈尔市不动产证明第0000101号", RegisteredAt: time.Date(2026, time.November, 26, 10, 2, 11, 0, shanghai)},
		{Index: 1, Reference: "GJJ-20261126-001-000002", Status: fundbatch.ResultRejected,
			Reasons: mortgage.Issues{{Field: "mortgagors[0].idNumber", Code: mortgage.CodeIDCheckDigit, Message: "居民身份证号码校验码错误"}}},
		{Index: 2, Reference: "GJJ-20261126-001-000003", Status: fundbatch.ResultStaff, BundleID: "bv6pe3rn8ky2tm5wf",
			Reasons: mortgage.Issues{{Field: "units[0].unitNumber", Code: mortgage.CodeUnitObjection, Message: "该不动产存在异议登记，已转人工审核"}}},
	}
	for _, r := range results {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sampleDir, "batch.results.xml")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if !bytes.Equal(b.Bytes(), readFile(t, path)) {
		t.Errorf("batch.results.xml differs from what the writer writes (run with -update):\n%s", b.Bytes())
	}
	xsdcheck.Files(t, resultsXSD, path)
	for _, want := range []string{"<ZDLJ>/GJJDYPL/JL[2]/DYR[1]/DYRZJH</ZDLJ>", "<ZD>mortgagors[0].idNumber</ZD>", "<ZT>3</ZT>"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("results lack %s", want)
		}
	}

	// The writer refuses results that do not add up.
	w, _ = fundbatch.NewResultsWriter(io.Discard, fundbatch.ResultsHeader{Records: 2, Registered: 2}, shanghai)
	if err := w.Write(results[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(results[0]); err == nil {
		t.Error("a second result for one record should be refused")
	}
	if err := w.Close(); err == nil {
		t.Error("Close with a result missing should fail")
	}
	if _, err := fundbatch.NewResultsWriter(io.Discard, fundbatch.ResultsHeader{Records: 2, Registered: 1}, shanghai); err == nil {
		t.Error("a header whose counts do not add up should be refused")
	}
}

func TestBatchErrors(t *testing.T) {
	good := string(generate(t, 3))
	edit := func(old, new string) []byte {
		if !strings.Contains(good, old) {
			t.Fatalf("generated batch lacks %q", old)
		}
		return []byte(strings.Replace(good, old, new, 1))
	}
	firstRecord := good[strings.Index(good, "  <JL>") : strings.Index(good, "</JL>")+len("</JL>\n")]
	tests := []struct {
		name  string
		body  []byte
		code  mortgage.Code
		field string
		seen  int // records fn saw before the fault
	}{
		{"ErrCountTooHigh", edit("<JLS>3</JLS>", "<JLS>4</JLS>"), fundbatch.CodeCountMismatch, "/GJJDYPL/PCXX/JLS", 3},
		{"ErrCountTooLow", edit("<JLS>3</JLS>", "<JLS>2</JLS>"), fundbatch.CodeCountMismatch, "/GJJDYPL/PCXX/JLS", 2},
		{"ErrTotal", edit("<ZJE>603000.00</ZJE>", "<ZJE>603000.01</ZJE>"), fundbatch.CodeTotalMismatch, "/GJJDYPL/PCXX/ZJE", 3},
		{"ErrTotalUnreadableAmount", edit("<BDBZZQSE>200000.00</BDBZZQSE>", "<BDBZZQSE>20万</BDBZZQSE>"), fundbatch.CodeTotalMismatch, "/GJJDYPL/PCXX/ZJE", 3},
		{"ErrNoHeader", edit("<PCXX>", "<PCXY>"), fundbatch.CodeHeader, "/GJJDYPL/PCXX", 0},
		{"ErrRecordBeforeHeader", []byte(strings.Replace(good, "<GJJDYPL>\n", "<GJJDYPL>\n"+firstRecord, 1)), fundbatch.CodeHeader, "/GJJDYPL/PCXX", 0},
		{"ErrSecondHeader", []byte(strings.Replace(good, "</GJJDYPL>", "<PCXX/></GJJDYPL>", 1)), xmlsafe.CodeDuplicate, "/GJJDYPL/PCXX", 3},
		{"ErrUnknownElement", []byte(strings.Replace(good, "</GJJDYPL>", "<HZ/></GJJDYPL>", 1)), xmlsafe.CodeUnknownElement, "/GJJDYPL/HZ", 3},
		{"ErrWrongRoot", edit("<GJJDYPL>", "<GJJDYPLJG>"), xmlsafe.CodeWrongRoot, "/GJJDYPLJG", 0},
		{"ErrHeaderDate", edit("<PCRQ>20261126</PCRQ>", "<PCRQ>2026-11-26</PCRQ>"), fundbatch.CodeHeader, "/GJJDYPL/PCXX/PCRQ", 0},
		{"ErrHeaderCount", edit("<JLS>3</JLS>", "<JLS>三</JLS>"), fundbatch.CodeHeader, "/GJJDYPL/PCXX/JLS", 0},
		{"ErrHeaderTotal", edit("<ZJE>603000.00</ZJE>", "<ZJE>603,000.00</ZJE>"), fundbatch.CodeHeader, "/GJJDYPL/PCXX/ZJE", 0},
		{"ErrHeaderMortgagee", edit("<DYQRZJH>12230200MB1GJJ0012</DYQRZJH>", "<DYQRZJH>12230200MB1GJJ0013</DYQRZJH>"), fundbatch.CodeHeader, "/GJJDYPL/PCXX/DYQRZJH", 0},
		{"ErrHeaderMissing", edit("<PCH>GJJ-20261126-001</PCH>", ""), fundbatch.CodeHeader, "/GJJDYPL/PCXX/PCH", 0},
		{"ErrHeaderUnknown", edit("<PCH>", "<BZ>x</BZ><PCH>"), xmlsafe.CodeUnknownElement, "/GJJDYPL/PCXX/BZ", 0},
		{"ErrTooManyRecords", edit("<JLS>3</JLS>", "<JLS>200001</JLS>"), fundbatch.CodeTooManyRecords, "/GJJDYPL/PCXX/JLS", 0},
		{"ErrTextInRoot", []byte(strings.Replace(good, "</GJJDYPL>", "x</GJJDYPL>", 1)), xmlsafe.CodeWrongContent, "/GJJDYPL", 3},
		{"ErrTruncated", []byte(good[:len(good)-200]), xmlsafe.CodeMalformed, "", 2},
		{"ErrDoctype", []byte(strings.Replace(good, "<GJJDYPL>", `<!DOCTYPE GJJDYPL [<!ENTITY x SYSTEM "file:///etc/passwd">]><GJJDYPL>`, 1)), xmlsafe.CodeDoctype, "", 0},
		{"ErrEmpty", nil, xmlsafe.CodeEmpty, "", 0},
		// Not well-formed: the file is refused whole, never one value winning.
		{"ErrDuplicateAttribute", edit("  <JL>", `  <JL XH="1" XH="2">`), xmlsafe.CodeDuplicateAttr, "/GJJDYPL/JL/@XH", 0},
		{"ErrDuplicateAttributeLater", []byte(strings.Replace(good, "<DBFW>", `<DBFW lang="zh" lang="en">`, 2)), xmlsafe.CodeDuplicateAttr, "/GJJDYPL/JL/DBFW/@lang", 0},
		{"ErrInvalidGBK", gbk(t, good, "<DBFW>", "<DBFW>\xd5\x7f"), xmlsafe.CodeInvalidBytes, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs, err := decodeAll(t, tt.body)
			var e *xmlsafe.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *xmlsafe.Error", err)
			}
			if e.Code != tt.code || e.Field != tt.field || e.Message == "" {
				t.Errorf("got %s at %q (%s), want %s at %q", e.Code, e.Field, e.Message, tt.code, tt.field)
			}
			if len(recs) != tt.seen {
				t.Errorf("fn saw %d records, want %d", len(recs), tt.seen)
			}
			if _, err := fundbatch.EncodeProblem(fault.Problem{Type: "/docs/problems.md#" + string(e.Code), Title: "批量文件未受理", Status: 422, Code: e.Code,
				Errors: mortgage.Issues{{Field: e.Field, Code: e.Code, Message: e.Message}}}); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestBadRecordDoesNotStopOthers: a record with an unknown element or an
// unreadable value gets its own issues; its neighbours decode normally.
func TestBadRecordDoesNotStopOthers(t *testing.T) {
	parts := strings.Split(string(generate(t, 3)), "  <JL>") // head, record 1, record 2, record 3
	parts[2] = strings.Replace(parts[2], "<DBFW>", "<DKLL>3.1</DKLL><DBFW>", 1)
	parts[3] = strings.Replace(parts[3], "<DYRZJZL>1</DYRZJZL>", "<DYRZJZL>9</DYRZJZL>", 1)
	body := strings.Join(parts, "  <JL>")
	_, recs, err := decodeAll(t, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if recs[1].Application != nil || len(recs[1].Issues) != 1 || recs[1].Issues[0].Code != xmlsafe.CodeUnknownElement ||
		recs[1].Issues[0].Field != "/GJJDYPL/JL[2]/DKLL" || recs[1].Reference != "GJJ-20261126-001-000002" {
		t.Errorf("record 2: %+v", recs[1])
	}
	if recs[2].Application == nil || len(recs[2].Issues) != 1 || recs[2].Issues[0].Code != "code_value_unknown" ||
		!strings.Contains(recs[2].Issues[0].Message, "/GJJDYPL/JL[3]/DYR[1]/DYRZJZL") {
		t.Errorf("record 3: %+v", recs[2].Issues)
	}
	if recs[0].Application == nil || len(recs[0].Issues) > 0 {
		t.Errorf("record 1: %+v", recs[0])
	}
}

// TestHundredThousandRecords: a 100,000-record batch streams through in
// bounded memory. The heap is sampled while records flow; only a generous
// bound on it is asserted, never time.
func TestHundredThousandRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 records: skipped with -short")
	}
	if raceEnabled {
		// The smaller tests drive the same generator and decoder under the
		// detector; .ci/run runs this one again without it.
		t.Skip("100,000 records: skipped under the race detector, which makes it several times slower")
	}
	const n = 100_000
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	pr, pw := io.Pipe()
	counter := &countingWriter{w: pw}
	go func() {
		_, err := fundbatch.Generate(counter, fundbatch.GenerateOptions{BatchNumber: "GJJ-LOAD-1", Date: batchDate, Records: n, Mortgagee: fundCentre})
		pw.CloseWithError(err)
	}()
	var peak uint64
	count, invalid := 0, 0
	start := time.Now()
	h, err := fundbatch.Decode(pr, func(r fundbatch.Record) error {
		if r.Application == nil || len(merge(r.Issues, mortgage.Validate(r.Application, rules))) > 0 {
			invalid++
		}
		count++
		if count%1000 == 0 {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
		}
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if count != n || h.Records != n || invalid > 0 {
		t.Fatalf("decoded %d of %d records, %d invalid", count, h.Records, invalid)
	}
	growth := int64(peak) - int64(base.HeapInuse)
	t.Logf("%d records, %.1f MB of XML: peak heap in use %.1f MB (%.1f MB above the start), %.0f records/s including generation and validation",
		n, float64(counter.n)/(1<<20), float64(peak)/(1<<20), float64(growth)/(1<<20), float64(n)/elapsed.Seconds())
	if growth > 64<<20 {
		t.Errorf("heap grew by %.1f MB while streaming, want at most 64 MB", float64(growth)/(1<<20))
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkDecode10000 decodes (without validating) a 10,000-record batch.
func BenchmarkDecode10000(b *testing.B) {
	body := generate(b, 10_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fundbatch.Verify(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecode: no file takes the batch decoder down (PROMISES S6); faults
// are *xmlsafe.Error with a code and a message, and every record the
// decoder hands out has either an application or issues.
//
//	go test ./partners/fundbatch -run '^$' -fuzz FuzzDecode -fuzztime 1m
func FuzzDecode(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join(sampleDir, "batch.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add(sample[:len(sample)/2])
	for _, s := range []string{``, `<GJJDYPL/>`, `<GJJDYPL><PCXX/></GJJDYPL>`, `<GJJDYPL><JL/></GJJDYPL>`,
		`<GJJDYPL><PCXX><PCH>1</PCH><PCRQ>20261126</PCRQ><JLS>1</JLS><ZJE>1</ZJE><DYQRMC>x</DYQRMC><DYQRZJZL>7</DYQRZJZL><DYQRZJH>12230200MB1GJJ0012</DYQRZJH></PCXX><JL><BDBZZQSE>1</BDBZZQSE><X/></JL></GJJDYPL>`,
		`<GJJDYPL><PCXX/><JL a="1" a="2"><BDBZZQSE>1</BDBZZQSE><BDBZZQSE>2</BDBZZQSE></JL></GJJDYPL>`,
		"<?xml version=\"1.0\" encoding=\"GB18030\"?><GJJDYPL><PCXX><PCH>\x81\x30\x81\x20</PCH></PCXX></GJJDYPL>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := fundbatch.Decode(bytes.NewReader(body), func(r fundbatch.Record) error {
			if r.Application == nil && len(r.Issues) == 0 {
				t.Fatalf("record %d has neither an application nor issues", r.Index)
			}
			if r.Application != nil {
				mortgage.Validate(r.Application, rules)
			}
			return nil
		})
		if err != nil {
			var e *xmlsafe.Error
			if !errors.As(err, &e) || e.Code == "" || e.Message == "" {
				t.Fatalf("bad error %v (%T)", err, err)
			}
		}
	})
}

// gbk re-encodes a generated batch as GBK, declared so, with one edit made
// to the encoded bytes.
func gbk(t *testing.T, utf, old, new string) []byte {
	t.Helper()
	utf = strings.Replace(utf, `encoding="UTF-8"`, `encoding="GBK"`, 1)
	b, err := simplifiedchinese.GBK.NewEncoder().String(utf)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.Replace(b, old, new, 1))
}

// TestRepeatedElementInRecord: a second amount in one record is that
// record's fault (xml_duplicate_element naming the path), never the last
// one winning; its neighbours decode normally.
func TestRepeatedElementInRecord(t *testing.T) {
	parts := strings.Split(string(generate(t, 3)), "  <JL>")
	parts[2] = strings.Replace(parts[2], "<DBFW>", "<BDBZZQSE>0.01</BDBZZQSE><DBFW>", 1)
	_, recs, err := decodeAll(t, []byte(strings.Join(parts, "  <JL>")))
	var e *xmlsafe.Error
	if err != nil && (!errors.As(err, &e) || e.Code != fundbatch.CodeTotalMismatch) { // the header's total counts the record it cannot read
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	if recs[1].Application != nil || len(recs[1].Issues) != 1 || recs[1].Issues[0].Code != xmlsafe.CodeDuplicate ||
		recs[1].Issues[0].Field != "/GJJDYPL/JL[2]/BDBZZQSE" {
		t.Errorf("record 2: %+v", recs[1])
	}
	if recs[0].Application == nil || recs[2].Application == nil {
		t.Errorf("neighbours: %+v %+v", recs[0].Issues, recs[2].Issues)
	}
}
