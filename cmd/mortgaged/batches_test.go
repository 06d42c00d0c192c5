package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/testwait"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/fundbatch"
)

// fundCentreParty is the test fund centre as the batch file names it.
var fundCentreParty = mortgage.Party{Name: "齐齐哈尔市住房公积金管理中心", IDType: mortgage.IDCreditCode, IDNumber: "12230200MB1GJJ0012"}

func addFundCentre(t *testing.T, d *sqlx.DB) string {
	t.Helper()
	reg := testRegistry(t, d)
	p := partners.Partner{ID: "qqhr-gjj", Kind: partners.KindFundCentre, Name: fundCentreParty.Name, CreditCode: fundCentreParty.IDNumber}
	if err := reg.Add(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	key, err := reg.IssueKey(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// addHoldings puts units and their owners in the register: the holdings
// fundbatch.Generate mortgages, record i taking holding i, except those
// listed in skip, which stay out of the register.
func addHoldings(t *testing.T, d *sqlx.DB, n int, skip ...int) []fundbatch.Holding {
	t.Helper()
	var hs []fundbatch.Holding
	var units, titles, names, ids []string
	for i := range n {
		h := fundbatch.GeneratedHolding(i)
		hs = append(hs, h)
		if contains(skip, i) {
			continue
		}
		units, titles = append(units, h.UnitNumber), append(titles, h.TitleCertificateNumber)
		names, ids = append(names, h.Owner.Name), append(ids, h.Owner.IDNumber)
	}
	if _, err := d.Exec(`INSERT INTO units (unit_number, location, use, area_m2, title_certificate_number, ownership_form)
		SELECT u, '龙沙区卜奎大街' || ord || '号', 'residential', 90, c, 'sole' FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(u, c, ord)`,
		pq.Array(units), pq.Array(titles)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`INSERT INTO owners (unit_number, seq, name, id_type, id_number)
		SELECT u, 1, nm, '1', id FROM unnest($1::text[], $2::text[], $3::text[]) AS x(u, nm, id)`,
		pq.Array(units), pq.Array(names), pq.Array(ids)); err != nil {
		t.Fatal(err)
	}
	return hs
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// batchFile generates a valid batch of len(hs) records dated today.
func batchFile(t *testing.T, number string, hs []fundbatch.Holding) []byte {
	t.Helper()
	var b bytes.Buffer
	today := mortgage.DateOf(time.Now(), time.FixedZone("CST", 8*3600))
	if _, err := fundbatch.Generate(&b, fundbatch.GenerateOptions{BatchNumber: number, Date: today, Records: len(hs),
		Mortgagee: fundCentreParty, Holdings: hs}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// spoilRecords applies edit to the records at the given 0-based indexes.
func spoilRecords(t *testing.T, file []byte, edit func(record string) string, indexes ...int) []byte {
	t.Helper()
	parts := strings.Split(string(file), "  <JL>") // the head, then one part per record
	for _, i := range indexes {
		spoilt := edit(parts[i+1])
		if spoilt == parts[i+1] {
			t.Fatalf("record %d unchanged", i)
		}
		parts[i+1] = spoilt
	}
	return []byte(strings.Join(parts, "  <JL>"))
}

// badIDNumber mistypes the mortgagor's resident ID (its check character).
func badIDNumber(rec string) string {
	i := strings.Index(rec, "<DYRZJH>") + len("<DYRZJH>") + 17
	c := byte('0')
	if rec[i] == '0' {
		c = '1'
	}
	return rec[:i] + string(c) + rec[i+1:]
}

// unknownElement adds an element the format does not have.
func unknownElement(rec string) string {
	return strings.Replace(rec, "<DBFW>", "<DKLL>3.1</DKLL><DBFW>", 1)
}

func request(t *testing.T, method, rawURL, key string, body []byte, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := signedRequest(method, rawURL, key, body, header)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

func uploadBatch(t *testing.T, addr, key string, file []byte) (int, http.Header, []byte) {
	t.Helper()
	return request(t, http.MethodPost, addr+"/v1/batches", key, file, map[string]string{"Content-Type": "application/xml"})
}

// batchAnswer is what the batch answers carry (docs/batches.md).
type batchAnswer struct {
	BatchID     string `json:"batchId"`
	BatchNumber string `json:"batchNumber"`
	Status      string `json:"status"`
	Counts      struct {
		Total, Registered, Rejected, Desk, Pending int
	} `json:"counts"`
	Results string `json:"results"`
	Records []struct {
		Index             int    `json:"index"`
		Reference         string `json:"reference"`
		Status            string `json:"status"`
		BundleID          string `json:"bundleId"`
		CertificateNumber string `json:"certificateNumber"`
		Reasons           []struct {
			Field, CanonicalField, Code, Message string
		} `json:"reasons"`
	} `json:"records"`
	Next string `json:"next"`
}

func decodeBatch(t *testing.T, schema *jsonschema.Schema, body []byte) batchAnswer {
	t.Helper()
	if schema != nil {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("docs/formats/batch-v1.schema.json rejects the answer: %v\n%s", err, body)
		}
	}
	var a batchAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return a
}

func batchSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	s, err := jsonschema.NewCompiler().Compile("../../docs/formats/batch-v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitForBatch polls the database until the batch is finished.
func waitForBatch(t *testing.T, d *sqlx.DB, id string) {
	t.Helper()
	testwait.For(t, func() error {
		var status string
		if err := d.Get(&status, `SELECT status FROM batches WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if status == "finished" {
			return nil
		}
		var last *string
		d.Get(&last, `SELECT last_error FROM batches WHERE id = $1`, id)
		return fmt.Errorf("batch %s still %s (last error %v)", id, status, last)
	})
}

func count(t *testing.T, d *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestBatchUpload: uploads are stored and answered at once, duplicates
// return the batch already there, a file that does not add up is refused
// whole with nothing stored, and the records of a batch of good and bad
// ones are each decided on their own — by another node than the one that
// took the upload. Another partner sees none of it.
func TestBatchUpload(t *testing.T) {
	url := pgtest.New(t)
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key := addFundCentre(t, d)
	_, bankKey := addBank(t, d)
	schema := batchSchema(t)
	env := []string{"DATABASE_URL=" + url}

	// Six records: 3 and 4 cannot be read or fail validation; 5's unit is
	// not in the register; 1, 2 and 6 register.
	hs := addHoldings(t, d, 6, 4)
	file := batchFile(t, "GJJ-T-001", hs)
	file = spoilRecords(t, file, badIDNumber, 2)
	file = spoilRecords(t, file, unknownElement, 3)

	// This node takes uploads and decides nothing.
	front := start(t, append(env, "MORTGAGED_BATCH=off"), "serve", "-addr", "127.0.0.1:0")
	status, header, body := uploadBatch(t, front.addr, key, file)
	if status != http.StatusAccepted {
		t.Fatalf("upload: %d %s", status, body)
	}
	first := decodeBatch(t, schema, body)
	if header.Get("Location") != "/v1/batches/"+first.BatchID || first.Status != "pending" || first.Counts.Total != 6 || first.Counts.Pending != 6 {
		t.Fatalf("upload answer: %s %s", header.Get("Location"), body)
	}
	batchURL := front.addr + "/v1/batches/" + first.BatchID

	t.Run("ResultsNotYet", func(t *testing.T) {
		status, _, body := request(t, http.MethodGet, batchURL+"/results", key, nil, nil)
		if status != http.StatusConflict || !strings.Contains(string(body), `"code":"batch_not_finished"`) {
			t.Errorf("results before the batch is finished: %d %s", status, body)
		}
	})

	t.Run("SameFileAgain", func(t *testing.T) {
		status, header, body := uploadBatch(t, front.addr, key, file)
		if a := decodeBatch(t, schema, body); status != http.StatusOK || a.BatchID != first.BatchID || header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("same bytes again: %d %s", status, body)
		}
	})
	t.Run("SameNumberOtherFile", func(t *testing.T) {
		other := batchFile(t, "GJJ-T-001", hs[:2])
		status, _, body := uploadBatch(t, front.addr, key, other)
		if a := decodeBatch(t, schema, body); status != http.StatusOK || a.BatchID != first.BatchID {
			t.Errorf("same batch number, other content: %d %s", status, body)
		}
	})

	t.Run("FileRefused", func(t *testing.T) {
		batches, chunks := count(t, d, `SELECT count(*) FROM batches`), count(t, d, `SELECT count(*) FROM batch_chunks`)
		good := batchFile(t, "GJJ-T-002", hs[:3])
		for _, c := range []struct {
			name, old, new, code, field string
			accept                      string
		}{
			{"ErrCountMismatch", "<JLS>3</JLS>", "<JLS>4</JLS>", "batch_count_mismatch", "/GJJDYPL/PCXX/JLS", ""},
			{"ErrTotalMismatch", "<ZJE>603000.00</ZJE>", "<ZJE>603000.01</ZJE>", "batch_total_mismatch", "/GJJDYPL/PCXX/ZJE", ""},
			{"ErrTotalMismatchXML", "<ZJE>603000.00</ZJE>", "<ZJE>1.00</ZJE>", "batch_total_mismatch", "/GJJDYPL/PCXX/ZJE", "application/problem+xml"},
			{"ErrNotOurCentre", "<DYQRZJH>12230200MB1GJJ0012</DYQRZJH>", "<DYQRZJH>91230200MA1BANK01" + creditCheck(t, "91230200MA1BANK01") + "</DYQRZJH>", "batch_header_invalid", "/GJJDYPL/PCXX/DYQRZJH", ""},
			// The fund centre's code under another name (PROMISES S8).
			{"ErrNotOurCentresName", "<DYQRMC>" + fundCentreParty.Name + "</DYQRMC>", "<DYQRMC>龙江示范银行股份有限公司</DYQRMC>", "batch_header_invalid", "/GJJDYPL/PCXX/DYQRMC", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				bad := bytes.Replace(good, []byte(c.old), []byte(c.new), 1)
				if bytes.Equal(bad, good) {
					t.Fatalf("%s not in the file", c.old)
				}
				h := map[string]string{"Content-Type": "application/xml"}
				if c.accept != "" {
					h["Accept"] = c.accept
				}
				status, header, body := request(t, http.MethodPost, front.addr+"/v1/batches", key, bad, h)
				if status != http.StatusUnprocessableEntity {
					t.Fatalf("%d %s", status, body)
				}
				if c.accept != "" {
					if header.Get("Content-Type") != "application/problem+xml" || !strings.Contains(string(body), "<field>"+c.field+"</field>") ||
						!strings.Contains(string(body), "<code>"+c.code+"</code>") {
						t.Errorf("XML problem: %s %s", header.Get("Content-Type"), body)
					}
					return
				}
				var p struct {
					Code   string
					Errors []struct{ Field, Code string }
				}
				if err := json.Unmarshal(body, &p); err != nil || p.Code != c.code || len(p.Errors) != 1 || p.Errors[0].Field != c.field {
					t.Errorf("problem: %s", body)
				}
			})
		}
		if b, c := count(t, d, `SELECT count(*) FROM batches`), count(t, d, `SELECT count(*) FROM batch_chunks`); b != batches || c != chunks {
			t.Errorf("refused files left %d batches and %d chunks, want %d and %d", b, c, batches, chunks)
		}
	})

	t.Run("NotFundCentre", func(t *testing.T) {
		status, _, body := uploadBatch(t, front.addr, bankKey, batchFile(t, "LJB-1", hs[:1]))
		if status != http.StatusForbidden {
			t.Errorf("a bank uploads a batch: %d %s", status, body)
		}
	})

	// Another node decides the records.
	worker := start(t, env, "serve", "-addr", "127.0.0.1:0")
	waitForBatch(t, d, first.BatchID)

	t.Run("EachRecordDecided", func(t *testing.T) {
		a := decodeBatch(t, schema, httpGet(t, worker.addr+"/v1/batches/"+first.BatchID, key))
		if a.Status != "finished" || a.Counts.Registered != 3 || a.Counts.Rejected != 3 || a.Counts.Pending != 0 || len(a.Records) != 6 ||
			a.Results != "/v1/batches/"+first.BatchID+"/results" {
			t.Fatalf("finished batch: %+v", a)
		}
		want := []struct{ status, code, field string }{
			{"registered", "", ""}, {"registered", "", ""},
			{"rejected", "id_number_check_digit", "/GJJDYPL/JL[3]/DYR[1]/DYRZJH"},
			{"rejected", "xml_unknown_element", "/GJJDYPL/JL[4]/DKLL"},
			{"rejected", "unit_not_found", "/GJJDYPL/JL[5]/BDCDYH[1]"},
			{"registered", "", ""},
		}
		for i, r := range a.Records {
			w := want[i]
			if r.Index != i+1 || r.Status != w.status || r.Reference != fmt.Sprintf("GJJ-T-001-%06d", i+1) {
				t.Errorf("record %d: %+v", i+1, r)
				continue
			}
			switch w.status {
			case "registered":
				if r.CertificateNumber == "" || r.BundleID == "" || len(r.Reasons) != 0 {
					t.Errorf("record %d: %+v", i+1, r)
				}
			case "rejected":
				found := false
				for _, is := range r.Reasons {
					found = found || is.Code == w.code && is.Field == w.field
				}
				if !found {
					t.Errorf("record %d: no reason %s at %s in %+v", i+1, w.code, w.field, r.Reasons)
				}
			}
		}
		// Records 1, 2, 5 and 6 made bundles (5 refused by the register);
		// 3 and 4 were refused before any bundle.
		if n := count(t, d, `SELECT count(*) FROM bundles WHERE reference LIKE 'GJJ-T-001#%'`); n != 4 {
			t.Errorf("%d bundles, want 4", n)
		}
		if n := count(t, d, `SELECT count(*) FROM mortgages`); n != 3 {
			t.Errorf("%d mortgages, want 3", n)
		}
		if n := count(t, d, `SELECT count(*) FROM events WHERE type = 'batch.finished' AND subject = $1`, first.BatchID); n != 1 {
			t.Errorf("%d batch.finished events, want 1", n)
		}
	})

	t.Run("Paging", func(t *testing.T) {
		a := decodeBatch(t, schema, httpGet(t, batchURL+"?limit=4", key))
		if len(a.Records) != 4 || a.Next == "" {
			t.Fatalf("first page: %+v", a)
		}
		b := decodeBatch(t, schema, httpGet(t, front.addr+a.Next, key))
		if len(b.Records) != 2 || b.Records[0].Index != 5 || b.Next != "" {
			t.Errorf("second page: %+v", b)
		}
		if status, _, body := request(t, http.MethodGet, batchURL+"?limit=0", key, nil, nil); status != http.StatusBadRequest {
			t.Errorf("limit=0: %d %s", status, body)
		}
	})

	t.Run("ResultsFile", func(t *testing.T) {
		results := httpGet(t, batchURL+"/results", key)
		for _, s := range []string{"<JLS>6</JLS>", "<DJS>3</DJS>", "<BYDJS>3</BYDJS>", "<ZRGS>0</ZRGS>", "<ZDLJ>/GJJDYPL/JL[3]/DYR[1]/DYRZJH</ZDLJ>"} {
			if !bytes.Contains(results, []byte(s)) {
				t.Errorf("results file lacks %s:\n%s", s, results)
			}
		}
		path := filepath.Join(t.TempDir(), "results.xml")
		if err := os.WriteFile(path, results, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("xmllint"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("xmllint is required in CI (apt-get install libxml2-utils)")
			}
			t.Skip("xmllint not installed (apt-get install libxml2-utils); schema check skipped")
		}
		if out, err := exec.Command("xmllint", "--noout", "--schema", "../../docs/formats/fund-batch-results-v1.xsd", path).CombinedOutput(); err != nil {
			t.Errorf("results file fails its XSD: %v\n%s", err, out)
		}
	})

	t.Run("OtherPartner", func(t *testing.T) {
		for _, u := range []string{batchURL, batchURL + "/results"} {
			if status, _, body := request(t, http.MethodGet, u, bankKey, nil, nil); status != http.StatusNotFound {
				t.Errorf("another partner's GET %s: %d %s", u, status, body)
			}
		}
	})
}

func creditCheck(t *testing.T, stem string) string {
	t.Helper()
	c, ok := mortgage.CreditCodeCheckChar(stem)
	if !ok {
		t.Fatalf("no check character for %s", stem)
	}
	return string(c)
}

// TestBatchSurvivesKill is issue 4's proof: a batch of good and bad
// records, its server killed halfway, finishes after a restart with every
// record decided exactly once.
func TestBatchSurvivesKill(t *testing.T) {
	url := pgtest.New(t)
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key := addFundCentre(t, d)
	const n = 300
	bad := []int{7, 50, 123, 201, 299}
	hs := addHoldings(t, d, n)
	file := spoilRecords(t, batchFile(t, "GJJ-KILL-1", hs), badIDNumber, bad...)
	// A short lease: the killed node's claim runs out in seconds.
	env := []string{"DATABASE_URL=" + url, "MORTGAGED_BATCH_LEASE=3s", "MORTGAGED_BATCH_POLL=100ms"}

	p := start(t, append(env, "MORTGAGED_BATCH_PARALLEL=2"), "serve", "-addr", "127.0.0.1:0")
	status, _, body := uploadBatch(t, p.addr, key, file)
	if status != http.StatusAccepted {
		t.Fatalf("upload: %d %s", status, body)
	}
	var up batchAnswer
	if err := json.Unmarshal(body, &up); err != nil {
		t.Fatal(err)
	}

	// Kill the node once some records, but not all, are decided and their
	// results stored; by then others are decided without their results
	// stored yet (results are stored a few hundred milliseconds apart).
	deadline := time.Now().Add(time.Minute)
	for count(t, d, `SELECT count(*) FROM batch_records WHERE batch_id = $1`, up.BatchID) < 20 {
		if time.Now().After(deadline) {
			t.Fatal("no records decided within a minute")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	recorded := count(t, d, `SELECT count(*) FROM batch_records WHERE batch_id = $1`, up.BatchID)
	bundles := count(t, d, `SELECT count(*) FROM bundles WHERE reference LIKE 'GJJ-KILL-1#%'`)
	t.Logf("killed with %d bundles made and %d results recorded", bundles, recorded)
	if recorded >= n || bundles >= n-len(bad) {
		t.Fatalf("the batch was (nearly) done before the kill: %d bundles, %d results", bundles, recorded)
	}

	p = start(t, env, "serve", "-addr", "127.0.0.1:0")
	waitForBatch(t, d, up.BatchID)

	var b struct {
		Registered, Rejected, Desk, Records, Passes int
	}
	if err := d.Get(&b, `SELECT registered, rejected, desk, records, passes FROM batches WHERE id = $1`, up.BatchID); err != nil {
		t.Fatal(err)
	}
	if b.Registered != n-len(bad) || b.Rejected != len(bad) || b.Desk != 0 || b.Passes < 2 {
		t.Errorf("batch counts: %+v", b)
	}
	checks := []struct {
		what  string
		query string
		want  int
	}{
		{"results", `SELECT count(*) FROM batch_records WHERE batch_id = $1`, n},
		{"distinct record indexes", `SELECT count(DISTINCT idx) FROM batch_records WHERE batch_id = $1`, n},
		{"registered results", `SELECT count(*) FROM batch_records WHERE batch_id = $1 AND status = 'registered'`, n - len(bad)},
		{"bundles of the batch", `SELECT count(*) FROM bundles WHERE reference LIKE 'GJJ-KILL-1#%' AND $1 <> ''`, n - len(bad)},
		{"distinct bundle references", `SELECT count(DISTINCT reference) FROM bundles WHERE reference LIKE 'GJJ-KILL-1#%' AND $1 <> ''`, n - len(bad)},
		{"results naming a bundle", `SELECT count(DISTINCT bundle_id) FROM batch_records WHERE batch_id = $1`, n - len(bad)},
		{"bundles without a result", `SELECT count(*) FROM bundles b WHERE b.reference LIKE 'GJJ-KILL-1#%' AND NOT EXISTS
			(SELECT 1 FROM batch_records r WHERE r.batch_id = $1 AND r.bundle_id = b.id)`, 0},
		{"mortgages", `SELECT count(*) FROM mortgages WHERE $1 <> ''`, n - len(bad)},
		{"certificates", `SELECT count(*) FROM certificates WHERE $1 <> ''`, n - len(bad)},
		{"units mortgaged twice", `SELECT count(*) FROM (SELECT unit_number FROM mortgage_units WHERE $1 <> '' GROUP BY unit_number HAVING count(*) > 1) x`, 0},
		{"decision events", `SELECT count(*) FROM events WHERE type LIKE 'bundle.%' AND $1 <> ''`, n - len(bad)},
		{"batch.finished events", `SELECT count(*) FROM events WHERE type = 'batch.finished' AND subject = $1`, 1},
	}
	for _, c := range checks {
		if got := count(t, d, c.query, up.BatchID); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	for _, i := range bad {
		var status string
		if err := d.Get(&status, `SELECT status FROM batch_records WHERE batch_id = $1 AND idx = $2`, up.BatchID, i); err != nil || status != "rejected" {
			t.Errorf("bad record %d: %q %v", i+1, status, err)
		}
	}
	var payload []byte
	if err := d.Get(&payload, `SELECT payload FROM events WHERE type = 'batch.finished' AND subject = $1`, up.BatchID); err != nil {
		t.Fatal(err)
	}
	// The fund centre hears in its own XML (docs/formats/fund-events-v1.xsd).
	var ev struct {
		SJLX string
		PC   struct {
			PCH        string
			DJS, BYDJS int
		}
	}
	if err := xml.Unmarshal(payload, &ev); err != nil || ev.SJLX != "batch.finished" || ev.PC.PCH != "GJJ-KILL-1" ||
		ev.PC.DJS != n-len(bad) || ev.PC.BYDJS != len(bad) {
		t.Errorf("batch.finished payload: %s (%v)", payload, err)
	}
	p.terminate()
}
