package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestDocumentedExamples sends every worked example in docs/examples through
// the real server against a register that holds its units, and expects the
// documented answer (bundle ids and times aside).
func TestDocumentedExamples(t *testing.T) {
	t.Parallel()
	a := setup(t)
	if bankA.CreditCode != "91230200MA1BANK01Q" {
		t.Fatalf("the examples' bank has credit code 91230200MA1BANK01Q, the test bank %s", bankA.CreditCode)
	}
	seedExampleRegister(t, a)
	for _, c := range []struct {
		request, answer string
		status          int
	}{
		{"first-general.request.json", "first-general.response.json", http.StatusCreated},
		{"first-maximum.request.json", "first-maximum.response.json", http.StatusCreated},
		{"cancellation.request.json", "cancellation.response.json", http.StatusCreated},
		{"rejected-seized.request.json", "rejected-seized.response.json", http.StatusCreated},
		{"invalid.request.json", "invalid.problem.json", http.StatusUnprocessableEntity},
	} {
		t.Run(c.request, func(t *testing.T) {
			body := readExample(t, c.request)
			r := a.post("lj-bank", body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			got, want := comparable(t, r.body), comparable(t, readExample(t, c.answer))
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.MarshalIndent(got, "", "  ")
				wb, _ := json.MarshalIndent(want, "", "  ")
				t.Errorf("answer differs from docs/examples/%s\ngot:  %s\nwant: %s", c.answer, gb, wb)
			}
		})
	}
}

// seedExampleRegister puts the worked examples' units and rights in the register.
func seedExampleRegister(t *testing.T, a *api) {
	t.Helper()
	for _, q := range []string{
		// first-general: a jointly owned home.
		`INSERT INTO units VALUES ('230202001001GB00023F00010502', '龙沙区卜奎大街 23 号 1 栋 5 单元 502 室', 'residential', 89.5, '黑(2021)齐齐哈尔市不动产权第0012345号', 'joint', true)`,
		`INSERT INTO owners VALUES ('230202001001GB00023F00010502', 1, '张伟', '1', '230202198503120331', NULL, NULL), ('230202001001GB00023F00010502', 2, '李静', '1', '230203198707210247', NULL, NULL)`,
		// first-maximum: a shop owned by a company.
		`INSERT INTO units VALUES ('230203002004GB00108F00020101', '建华区新明大街 108 号商服 101', 'commercial', 160, '黑(2023)齐齐哈尔市不动产权第0056789号', 'sole', true)`,
		`INSERT INTO owners VALUES ('230203002004GB00108F00020101', 1, '齐齐哈尔鹤城商贸有限公司', '7', '91230203MA1C4L8R28', NULL, NULL)`,
		// cancellation: the bank's current mortgage from 2019.
		`INSERT INTO units VALUES ('230206001003GB00077F00010301', '富拉尔基区和平大街 77 号 1 栋 301 室', 'residential', 72, '黑(2018)齐齐哈尔市不动产权第0004321号', 'sole', true)`,
		`WITH m AS (INSERT INTO mortgages (certificate_number, kind, collateral_kind, principal_fen, debt_start, debt_end, scope, transfer_restricted,
			mortgagors, debtors, mortgagee_name, mortgagee_id_number, registered_at, recording_officer)
			VALUES ('黑(2019)齐齐哈尔市不动产证明第0008812号', 'general', '2', 30000000, '2019-05-01', '2039-04-30', '主债权及利息', false,
			'[]', '[]', '龙江示范银行股份有限公司齐齐哈尔分行', '91230200MA1BANK01Q', '2019-05-06T10:00:00+08:00', '王某') RETURNING id)
			INSERT INTO mortgage_units SELECT id, '230206001003GB00077F00010301', 1, true FROM m`,
		// rejected-seized: a seized home.
		`INSERT INTO units VALUES ('230204003002GB00045F00030201', '铁锋区站前大街 45 号 3 栋 201 室', 'residential', 65, '黑(2019)齐齐哈尔市不动产权第0034567号', 'sole', true)`,
		`INSERT INTO owners VALUES ('230204003002GB00045F00030201', 1, '赵刚', '1', '230204197809250153', NULL, NULL)`,
		`INSERT INTO seizures (unit_number, authority, document_number, seized_from) VALUES ('230204003002GB00045F00030201', '齐齐哈尔市铁锋区人民法院', '(2026)黑0204执512号', '2026-10-12')`,
	} {
		if _, err := a.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestDocumentedXMLExamples sends the XML worked examples — the centre's XML
// v1 and both bank dialects — through the real server for a partner
// registered with that format, and expects the documented answers.
func TestDocumentedXMLExamples(t *testing.T) {
	t.Parallel()
	for _, format := range []struct{ name, dir string }{
		{"centre-xml-v1", "xml"}, {"pinyin-flat", "xml/pinyin-flat"}, {"nested-attr", "xml/nested-attr"},
	} {
		t.Run(format.name, func(t *testing.T) {
			t.Parallel()
			a := setup(t)
			seedExampleRegister(t, a)
			if _, err := a.db.Exec(`UPDATE partners SET format = $1 WHERE id = 'lj-bank'`, format.name); err != nil {
				t.Fatal(err)
			}
			if r := a.post("lj-bank", readExample(t, "first-general.request.json")); r.status != http.StatusUnsupportedMediaType {
				t.Errorf("JSON from an XML partner: %d, want 415", r.status)
			}
			for _, c := range []struct {
				request, answer string
				status          int
			}{
				{"first-general.request.xml", "first-general.response.xml", http.StatusCreated},
				{"first-maximum.request.xml", "first-maximum.response.xml", http.StatusCreated},
				{"cancellation.request.xml", "cancellation.response.xml", http.StatusCreated},
				{"rejected-seized.request.xml", "rejected-seized.response.xml", http.StatusCreated},
				{"invalid.request.xml", "invalid.problem.xml", http.StatusUnprocessableEntity},
			} {
				t.Run(c.request, func(t *testing.T) {
					r := a.do(http.MethodPost, "/v1/bundles", "lj-bank", "application/xml", readExample(t, filepath.Join(format.dir, c.request)))
					if r.status != c.status {
						t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
					}
					if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "xml") {
						t.Errorf("answer Content-Type %q, want XML", ct)
					}
					got, want := volatile.ReplaceAllString(string(r.body), "…"), volatile.ReplaceAllString(string(readExample(t, filepath.Join(format.dir, c.answer))), "…")
					if strings.TrimSpace(got) != strings.TrimSpace(want) {
						t.Errorf("answer differs from docs/examples/%s/%s\ngot:\n%s\nwant:\n%s", format.dir, c.answer, got, want)
					}
				})
			}
		})
	}
}

// volatile matches what differs on every run: bundle ids and times of day.
var volatile = regexp.MustCompile(`b[a-z2-7]{16}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\+08:00|Z)?|\d{14}|\d{4}[-/]\d{2}[-/]\d{2} \d{2}:\d{2}:\d{2}`)

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// comparable drops what differs on every run: the bundle id and the times.
func comparable(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range []string{"bundleId", "receivedAt", "decidedAt", "registeredAt", "cancelledAt"} {
				delete(v, k)
			}
			for _, x := range v {
				strip(x)
			}
		case []any:
			for _, x := range v {
				strip(x)
			}
		}
	}
	strip(m)
	return m
}
