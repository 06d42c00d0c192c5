package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/client"
	"mortgaged/partners/dialects"
	"mortgaged/partners/formats"
	"mortgaged/partners/xmlmap"
	"mortgaged/server"
)

var shanghai = time.FixedZone("CST", 8*3600)

var (
	creditCode = mortgage.MustCreditCode
	residentID = mortgage.MustResidentID
)

var (
	bankA = partners.Partner{ID: "lj-bank", Kind: partners.KindBank, Name: "龙江示范银行股份有限公司齐齐哈尔分行", CreditCode: creditCode("91230200MA1BANK01")}
	bankB = partners.Partner{ID: "hc-bank", Kind: partners.KindBank, Name: "鹤城农村商业银行股份有限公司", CreditCode: creditCode("91230200MA1BANK02")}
	owner = mortgage.Party{Name: "张伟", IDType: mortgage.IDResident, IDNumber: residentID("23020219800101123")}
	pdf   = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
)

// testNow is the fixed clock of these tests: the service's and the
// server's (which judges request timestamps), and the one the tests' partner
// clients sign with, so no test depends on how long the tests before took.
var testNow = time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai)

// api is one test's running server, database and partner keys.
type api struct {
	t        *testing.T
	db       *sqlx.DB
	url      string
	now      func() time.Time // the server's clock, after opts
	units    int              // how many units unit has added
	keys     map[string]string
	signer   *certkeys.Keyring // certificate signing
	sealer   *seal.Sealer
	registry *partners.Registry
	svc      *mortgage.Service
}

// setup starts a server on a fresh database; opts adjust the server before
// it starts (e.g. its body limit).
func setup(t *testing.T, opts ...func(*server.Server)) *api {
	t.Helper()
	return setupOn(t, pgtest.Open(t), opts...)
}

// setupOn is setup on the pool d.
func setupOn(t *testing.T, d *sqlx.DB, opts ...func(*server.Server)) *api {
	t.Helper()
	svc := mortgage.NewService(d, mortgage.Config{Province: "黑", City: "齐齐哈尔市", Authority: "齐齐哈尔市不动产登记中心",
		RecordingOfficer: "自动登簿", ObjectionPolicy: mortgage.ObjectionRefuse, Location: shanghai})
	svc.Now = func() time.Time { return testNow }
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := certkeys.Open(t.Context(), d, sealer)
	if err != nil {
		t.Fatal(err)
	}
	svc.Signer = keys
	reg := &partners.Registry{DB: d, Sealer: sealer}
	a := &api{t: t, db: d, keys: map[string]string{}, signer: keys, sealer: sealer, registry: reg, svc: svc}
	for _, p := range []partners.Partner{bankA, bankB} {
		if err := reg.Add(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		key, err := reg.IssueKey(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		a.keys[p.ID] = key
	}
	srv := server.New(d, svc, reg, slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	srv.MaxBodyBytes = 1 << 20
	srv.Now = func() time.Time { return testNow }
	srv.Keys, srv.PublicURL = keys, publicURL
	dialectSet, err := xmlmap.Load(dialects.Files)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Formats, err = formats.New(shanghai, dialectSet); err != nil {
		t.Fatal(err)
	}
	svc.EncodeEvent = srv.Formats.EncodeEvent // as in production: each partner's own format
	for _, o := range opts {
		o(srv)
	}
	a.now = srv.Now
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	a.url = ts.URL
	return a
}

// client is partner's signing client for the server at base, on the server's
// clock.
func (a *api) client(base, partner string) *client.Client {
	a.t.Helper()
	c, err := client.New(base, a.keys[partner])
	if err != nil {
		a.t.Fatal(err)
	}
	c.Now = a.now
	return c
}

// testLog sends the server's warnings and errors to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// unit adds a sole-owner unit and returns its number and title.
func (a *api) unit() (string, string) {
	a.t.Helper()
	a.units++
	n := fmt.Sprintf("230202001001GB%05dF00010001", a.units)
	title := fmt.Sprintf("黑(2020)齐齐哈尔市不动产权第%07d号", a.units)
	if _, err := a.db.Exec(`INSERT INTO units (unit_number, location, use, area_m2, title_certificate_number, ownership_form)
		VALUES ($1, '龙沙区卜奎大街1号', 'residential', 80, $2, 'sole')`, n, title); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.db.Exec(`INSERT INTO owners (unit_number, seq, name, id_type, id_number) VALUES ($1, 1, $2, '1', $3)`,
		n, owner.Name, owner.IDNumber); err != nil {
		a.t.Fatal(err)
	}
	return n, title
}

func material(kind string) mortgage.Material {
	sum := sha256.Sum256(pdf)
	return mortgage.Material{Kind: kind, FileName: kind + ".pdf", MediaType: "application/pdf", SHA256: hex.EncodeToString(sum[:]), Content: pdf}
}

// body is a clean JSON v1 general-mortgage request for a fresh unit.
func (a *api) body(ref string) []byte {
	a.t.Helper()
	n, title := a.unit()
	yes := false
	app := &mortgage.Application{
		Reference: ref, Type: mortgage.FirstGeneral,
		Units:      []mortgage.UnitRef{{UnitNumber: n, TitleCertificateNumber: title}},
		Mortgagors: []mortgage.Party{owner},
		Mortgagee:  mortgage.Party{Name: bankA.Name, IDType: mortgage.IDCreditCode, IDNumber: bankA.CreditCode},
		Mortgage: &mortgage.Terms{CollateralKind: "2", PrincipalFen: 800_000_00,
			DebtStart: mortgage.NewDate(2026, 11, 26), DebtEnd: mortgage.NewDate(2056, 11, 25),
			Scope: "主债权及利息、违约金、损害赔偿金和实现债权的费用", TransferRestricted: &yes},
		Materials: []mortgage.Material{material("application_form"), material("loan_contract"), material("mortgage_contract")},
	}
	b, err := centrejson.EncodeApplication(app)
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.body)
	}
	return m
}

func (a *api) do(method, path, partner, contentType string, body []byte) response {
	a.t.Helper()
	var res *http.Response
	if partner != "" {
		// Every partner request is signed, as a bank's system would sign it.
		c := a.client(a.url, partner)
		u, err := url.Parse(path)
		if err != nil {
			a.t.Fatal(err)
		}
		res, err = c.Do(a.t.Context(), method, u.EscapedPath(), u.Query(), contentType, body)
		if err != nil {
			a.t.Fatal(err)
		}
	} else {
		req, err := http.NewRequest(method, a.url+path, bytes.NewReader(body))
		if err != nil {
			a.t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if res, err = http.DefaultClient.Do(req); err != nil {
			a.t.Fatal(err)
		}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

func (a *api) post(partner string, body []byte) response {
	return a.do(http.MethodPost, "/v1/bundles", partner, "application/json", body)
}

func (a *api) count(table string) int {
	a.t.Helper()
	var n int
	if err := a.db.Get(&n, `SELECT count(*) FROM `+table); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func TestSubmitRegistersInTheSameRequest(t *testing.T) {
	t.Parallel()
	a := setup(t)
	res := a.post("lj-bank", a.body("LJB-20261126-0001"))
	if res.status != http.StatusCreated {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	d := res.json(t)
	reg, _ := d["registration"].(map[string]any)
	if d["status"] != "registered" || reg["certificateNumber"] != "黑(2026)齐齐哈尔市不动产证明第0000001号" {
		t.Fatalf("decision %s", res.body)
	}
	if fee, _ := d["fee"].(map[string]any); fee["amount"] != "80.00" {
		t.Errorf("fee %v", d["fee"])
	}
	id := d["bundleId"].(string)
	if loc := res.header.Get("Location"); loc != "/v1/bundles/"+id {
		t.Errorf("Location %q", loc)
	}
	for _, path := range []string{"/v1/bundles/" + id, "/v1/bundles?reference=LJB-20261126-0001"} {
		got := a.do(http.MethodGet, path, "lj-bank", "", nil)
		if got.status != http.StatusOK || !bytes.Equal(got.body, res.body) {
			t.Errorf("GET %s: %d %s, want the decision %s", path, got.status, got.body, res.body)
		}
		// A partner sees only its own bundles (A1).
		if other := a.do(http.MethodGet, path, "hc-bank", "", nil); other.status != http.StatusNotFound {
			t.Errorf("GET %s as another partner: %d, want 404", path, other.status)
		}
	}
}

func TestReplayAndConflict(t *testing.T) {
	t.Parallel()
	a := setup(t)
	body := a.body("LJB-REPLAY-1")
	first := a.post("lj-bank", body)
	again := a.post("lj-bank", body)
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %s (replayed=%q), want %d %s", again.status, again.body, again.header.Get("Idempotent-Replayed"), first.status, first.body)
	}
	// Same content, different whitespace: still the same application.
	var v any
	_ = json.Unmarshal(body, &v)
	compact, _ := json.Marshal(v)
	if r := a.post("lj-bank", compact); !bytes.Equal(r.body, first.body) {
		t.Errorf("compacted resubmission: %d %s", r.status, r.body)
	}
	changed := bytes.Replace(body, []byte(`"800000.00"`), []byte(`"800000.01"`), 1)
	conflict := a.post("lj-bank", changed)
	p := conflict.json(t)
	if conflict.status != http.StatusConflict || p["code"] != "reference_conflict" || p["bundleId"] != first.json(t)["bundleId"] {
		t.Errorf("changed body: %d %s, want 409 naming the first bundle", conflict.status, conflict.body)
	}
	if n := a.count("bundles"); n != 1 {
		t.Errorf("%d bundles, want 1", n)
	}
}

func TestConcurrentIdenticalSubmissionsOverHTTP(t *testing.T) {
	t.Parallel()
	a := setup(t)
	if _, err := a.db.Exec(`UPDATE partners SET max_concurrent = 64`); err != nil { // all 50 at once, not queued by the limiter
		t.Fatal(err)
	}
	body := a.body("LJB-RACE-1")
	const n = 50
	res := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { res[i] = a.post("lj-bank", body) })
	}
	wg.Wait()
	fresh := 0
	for _, r := range res {
		if r.status != http.StatusCreated || !bytes.Equal(r.body, res[0].body) {
			t.Fatalf("answer %d %s differs from %s", r.status, r.body, res[0].body)
		}
		if r.header.Get("Idempotent-Replayed") == "" {
			fresh++
		}
	}
	if fresh != 1 || a.count("bundles") != 1 || a.count("mortgages") != 1 {
		t.Errorf("%d fresh answers, %d bundles, %d mortgages; want 1 each", fresh, a.count("bundles"), a.count("mortgages"))
	}
}

func TestBadInputGetsProblemAndWritesNothing(t *testing.T) {
	t.Parallel()
	a := setup(t)
	valid := a.body("LJB-BAD-0")
	cases := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		code        string
		field       string
	}{
		{"Malformed", "application/json", []byte(`{"reference": "x",`), 400, "json_malformed", ""},
		{"NotJSON", "application/json", []byte(`<xml/>`), 400, "json_malformed", ""},
		{"Empty", "application/json", nil, 400, "body_empty", ""},
		{"WrongType", "application/json", []byte(`{"reference": 12}`), 400, "json_wrong_type", "reference"},
		{"UnknownField", "application/json", []byte(`{"referense": "x"}`), 400, "json_unknown_field", "referense"},
		{"TrailingData", "application/json", append(append([]byte{}, valid...), []byte(` {}`)...), 400, "json_trailing_data", ""},
		{"UnknownType", "application/json", []byte(`{"reference": "LJB-1", "type": "mortgage_transfer"}`), 422, "validation_failed", "type"},
		{"WrongMediaType", "text/plain", valid, 415, "unsupported_media_type", ""},
		{"NoMediaType", "", valid, 415, "unsupported_media_type", ""},
		{"TooLarge", "application/json", bytes.Repeat([]byte(" "), 2<<20), 413, "body_too_large", ""},
		{"DeeplyNested", "application/json", []byte(`{"units":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`), 400, "", ""},
		{"AmountNotANumber", "application/json", bytes.Replace(valid, []byte(`"800000.00"`), []byte(`"八十万"`), 1), 422, "validation_failed", "mortgage.principalAmount"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.do(http.MethodPost, "/v1/bundles", "lj-bank", c.contentType, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			p := r.json(t)
			if c.code != "" && p["code"] != c.code {
				t.Errorf("code %v, want %s", p["code"], c.code)
			}
			if p["title"] == "" || p["detail"] == "" || p["status"] != float64(c.status) {
				t.Errorf("problem lacks title, detail or status: %s", r.body)
			}
			if c.field != "" {
				errs, _ := p["errors"].([]any)
				var fields []string
				for _, e := range errs {
					fields = append(fields, e.(map[string]any)["field"].(string))
				}
				if !slices.Contains(fields, c.field) {
					t.Errorf("errors %v do not name field %s", fields, c.field)
				}
			}
		})
	}
	if n := a.count("bundles") + a.count("mortgages") + a.count("audit_log"); n != 0 {
		t.Errorf("%d rows written by bad input", n)
	}
	// The server keeps serving.
	if r := a.post("lj-bank", valid); r.status != http.StatusCreated {
		t.Errorf("valid bundle after bad input: %d %s", r.status, r.body)
	}
}

func TestEveryFaultAtOnce(t *testing.T) {
	t.Parallel()
	// Every fault, the strict rules' among them (MORTGAGED_STRICT_RULES).
	a := setup(t, func(s *server.Server) {
		s.Service.Config.Strict = mortgage.StrictRules{DebtPeriodEnded: true, SeparateMortgageContract: true}
	})
	var app map[string]any
	if err := json.Unmarshal(a.body("LJB-FIVE-1"), &app); err != nil {
		t.Fatal(err)
	}
	// Five independent faults.
	app["units"].([]any)[0].(map[string]any)["unitNumber"] = "230202001001GB0000F00010001"
	app["mortgagors"].([]any)[0].(map[string]any)["idNumber"] = owner.IDNumber[:17] + "0"
	m := app["mortgage"].(map[string]any)
	m["principalAmount"] = "0"
	m["debtEnd"] = "2020-01-01"
	app["materials"] = app["materials"].([]any)[:2] // drop the mortgage contract
	if strings.HasSuffix(owner.IDNumber, "0") {
		t.Skip("fixture ID already ends in 0")
	}
	body, _ := json.Marshal(app)
	r := a.post("lj-bank", body)
	p := r.json(t)
	errs, _ := p["errors"].([]any)
	var got []string
	for _, e := range errs {
		em := e.(map[string]any)
		got = append(got, em["field"].(string)+":"+em["code"].(string))
		if em["message"] == "" {
			t.Errorf("no message for %v", em)
		}
	}
	want := []string{
		"materials:material_missing",
		"mortgage.debtEnd:debt_period_ended",
		"mortgage.debtEnd:debt_period_order",
		"mortgage.principalAmount:amount_not_positive",
		"mortgagors[0].idNumber:id_number_check_digit",
		"units[0].unitNumber:unit_number_format",
	}
	if r.status != http.StatusUnprocessableEntity || !slices.Equal(got, want) {
		t.Errorf("%d %v, want 422 %v", r.status, got, want)
	}
}

func TestProbesAndMetrics(t *testing.T) {
	t.Parallel()
	var srv *server.Server
	a := setup(t, func(s *server.Server) { srv = s })
	a.post("lj-bank", a.body("LJB-METRICS-1"))
	for path, want := range map[string]string{
		"/healthz": `"ok"`,
		"/readyz":  `"ready"`,
	} {
		r := a.do(http.MethodGet, path, "", "", nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), want) {
			t.Errorf("GET %s: %d, want %s in %.300s", path, r.status, want, r.body)
		}
	}
	// Metrics are served on their own listener, never the public one.
	if r := a.do(http.MethodGet, "/metrics", "", "", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /metrics on the public address: %d, want 404", r.status)
	}
	metrics := httptest.NewServer(srv.Metrics())
	t.Cleanup(metrics.Close)
	res, err := http.Get(metrics.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if want := `mortgaged_bundles_decided_total{status="registered",type="mortgage_first_general"} 1`; res.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
		t.Errorf("GET /metrics on the metrics listener: %d, want %s in %.300s", res.StatusCode, want, b)
	}
	if r := a.do(http.MethodGet, "/nowhere", "", "", nil); r.status != http.StatusNotFound || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown path: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := a.do(http.MethodDelete, "/v1/bundles", "lj-bank", "", nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /v1/bundles: %d, want 405", r.status)
	}
}

// TestReadyzWarnsOfMissingCalendar: from 1 December on the service's clock,
// without next year's notice /readyz is still 200 but warns, and the gauge
// is 1; in November it is 0 and there is no warning.
func TestReadyzWarnsOfMissingCalendar(t *testing.T) {
	t.Parallel()
	var srv *server.Server
	var now atomic.Pointer[time.Time]
	a := setup(t, func(s *server.Server) {
		srv = s
		s.Service.Now = func() time.Time { return *now.Load() }
	})
	metrics := httptest.NewServer(srv.Metrics())
	t.Cleanup(metrics.Close)
	gauge := func() string {
		res, err := http.Get(metrics.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "mortgaged_calendar_next_year_missing "); ok {
				return v
			}
		}
		return "absent"
	}
	for _, x := range []struct {
		at            time.Time
		warns, metric string
	}{
		{testNow, "", "0"},
		{time.Date(2026, 12, 1, 9, 0, 0, 0, shanghai), `"code":"calendar_next_year_missing","year":2027`, "1"},
	} {
		now.Store(&x.at)
		r := a.do(http.MethodGet, "/readyz", "", "", nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"status":"ready"`) ||
			(x.warns == "") != !strings.Contains(string(r.body), "warnings") || !strings.Contains(string(r.body), x.warns) {
			t.Errorf("at %s: /readyz %d %s, want ready with %q", x.at, r.status, r.body, x.warns)
		}
		if got := gauge(); got != x.metric {
			t.Errorf("at %s: gauge %s, want %s", x.at, got, x.metric)
		}
	}
}
