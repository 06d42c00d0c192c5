package console_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/internal/staff"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
	"mortgaged/server"
	"mortgaged/server/console"
	"mortgaged/sync/outbox"
)

var shanghai = mustLocation("Asia/Shanghai")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

var (
	creditCode = mortgage.MustCreditCode
	residentID = mortgage.MustResidentID
)

var (
	bankA = partners.Partner{ID: "lj-bank", Kind: partners.KindBank, Name: "龙江示范银行股份有限公司齐齐哈尔分行", CreditCode: creditCode("91230200MA1BANK01")}
	bankB = partners.Partner{ID: "hc-bank", Kind: partners.KindBank, Name: "鹤城农村商业银行股份有限公司", CreditCode: creditCode("91230200MA1BANK02")}
	fund  = partners.Partner{ID: "qqhr-gjj", Kind: partners.KindFundCentre, Name: "齐齐哈尔市住房公积金管理中心", CreditCode: creditCode("12230200MB1FUND01")}
)

// clock is the test's business time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is one test's server (partner API and console), database and clock.
type env struct {
	t     *testing.T
	db    *sqlx.DB
	svc   *mortgage.Service
	url   string
	clock *clock
	units int
	con   *console.Console
}

type envOptions struct {
	secureCookies bool
	db            *sqlx.DB  // nil: a fresh database
	log           io.Writer // the server's and console's log, as JSON lines, instead of the test's
}

// setup starts the real server with the console mounted, on a fresh
// database with partners and the test staff, at 10:00 on Thursday
// 26 November 2026 (a service day; the desk closes at 17:30).
func setup(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	d := o.db
	if d == nil {
		d = pgtest.Open(t)
	}
	clk := &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai)}
	svc := mortgage.NewService(d, mortgage.Config{Province: "黑", City: "齐齐哈尔市", Authority: "齐齐哈尔市不动产登记中心",
		RecordingOfficer: "自动登簿", ObjectionPolicy: mortgage.ObjectionRefuse, Location: shanghai})
	svc.Now = clk.Now
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := certkeys.Open(t.Context(), d, sealer)
	if err != nil {
		t.Fatal(err)
	}
	svc.Signer = keys
	reg := &partners.Registry{DB: d}
	e := &env{t: t, db: d, svc: svc, clock: clk}
	for _, p := range []partners.Partner{bankA, bankB, fund} {
		if err := reg.Add(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.log != nil {
		log = slog.New(slog.NewJSONHandler(o.log, nil))
	}
	srv := server.New(d, svc, reg, log)
	srv.Keys = keys
	backend := console.Backend{Desk: console.MortgageDesk{Service: svc}, Register: svc,
		Staff: &staff.Store{DB: d, Now: clk.Now}, DeadLetters: outbox.DeadLetterStore{DB: d}}
	con, err := console.New(backend, console.Config{
		Location: shanghai, SecureCookies: o.secureCookies, Now: clk.Now, Calendar: svc.Config.Calendar,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.MountConsole(con)
	e.con = con
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// testLog sends the server's warnings and errors to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// person is a natural person with a valid resident ID.
func person(name, stem17 string) mortgage.Party {
	return mortgage.Party{Name: name, IDType: mortgage.IDResident, IDNumber: residentID(stem17)}
}

// unit records a residential unit owned by owners and returns its number and title.
func (e *env) unit(location string, owners ...mortgage.Party) (string, string) {
	e.t.Helper()
	e.units++
	n := fmt.Sprintf("230202%03d001GB%05dF00010001", e.units%1000, e.units)
	title := fmt.Sprintf("黑(2021)齐齐哈尔市不动产权第%07d号", 31000+e.units)
	form := "sole"
	if len(owners) > 1 {
		form = "joint"
	}
	e.exec(`INSERT INTO units (unit_number, location, use, area_m2, title_certificate_number, ownership_form)
		VALUES ($1, $2, 'residential', $3, $4, $5)`, n, location, 60+e.units*7%80, title, form)
	for i, o := range owners {
		e.exec(`INSERT INTO owners (unit_number, seq, name, id_type, id_number) VALUES ($1, $2, $3, '1', $4)`, n, i+1, o.Name, o.IDNumber)
	}
	return n, title
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Exec(q, args...); err != nil {
		e.t.Fatalf("%v\n%s", err, q)
	}
}

// application is a clean general mortgage of one unit for partner p.
func (e *env) application(p partners.Partner, ref, unit, title string, principalFen int64, mortgagors ...mortgage.Party) *mortgage.Application {
	no := false
	today := mortgage.DateOf(e.clock.Now(), shanghai)
	return &mortgage.Application{
		Reference: ref, Type: mortgage.FirstGeneral,
		Units:      []mortgage.UnitRef{{UnitNumber: unit, TitleCertificateNumber: title}},
		Mortgagors: mortgagors,
		Mortgagee:  mortgage.Party{Name: p.Name, IDType: mortgage.IDCreditCode, IDNumber: p.CreditCode},
		Mortgage: &mortgage.Terms{CollateralKind: "2", PrincipalFen: principalFen,
			DebtStart: today, DebtEnd: mortgage.NewDate(today.Year()+30, today.Month(), today.Day()-1),
			Scope: "主债权及利息、违约金、损害赔偿金和实现债权的费用", TransferRestricted: &no},
		Materials: []mortgage.Material{
			pdfMaterial("application_form", "不动产登记申请书.pdf", "Application for mortgage registration "+ref),
			pdfMaterial("loan_contract", "借款合同.pdf", "Loan contract "+ref),
			pdfMaterial("mortgage_contract", "抵押合同.pdf", "Mortgage contract "+ref),
			pngMaterial("identity_document", "身份证.png"),
		},
	}
}

// submit sends the application as the bank's JSON through the centre's
// decoder and registration service, as the partner API does, and returns
// the bundle id and the decision's status.
func (e *env) submit(p partners.Partner, app *mortgage.Application) (id, status string) {
	e.t.Helper()
	body, err := centrejson.EncodeApplication(app)
	if err != nil {
		e.t.Fatal(err)
	}
	decoded, issues, err := centrejson.Decode(body)
	if err != nil || len(issues) > 0 {
		e.t.Fatalf("decode %s: %v %v", app.Reference, err, issues)
	}
	out, err := e.svc.Submit(e.t.Context(), mortgage.Submitter{PartnerID: p.ID, CreditCode: p.CreditCode}, decoded,
		func(d *mortgage.Decision) (mortgage.Answer, error) {
			b, err := centrejson.EncodeDecision(d, shanghai)
			return mortgage.Answer{Status: http.StatusCreated, Body: b}, err
		})
	if err != nil || out.Decision == nil {
		e.t.Fatalf("submit %s: %v", app.Reference, err)
	}
	return out.Decision.BundleID, string(out.Decision.Status)
}

// partnerView is the bundle as its partner reads it (GET /v1/bundles/{id}
// answers this JSON).
func (e *env) partnerView(p partners.Partner, id string) map[string]any {
	e.t.Helper()
	d, err := e.svc.Bundle(e.t.Context(), p.ID, id)
	if err != nil {
		e.t.Fatalf("partner view of %s: %v", id, err)
	}
	b, err := centrejson.EncodeDecision(d, shanghai)
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// nearMatchBundle sends a bundle whose mortgagor is written 張偉 while the
// register says 张伟: the desk's name_near_match.
func (e *env) nearMatchBundle(p partners.Partner, ref string) string {
	e.t.Helper()
	owner := person("张伟", fmt.Sprintf("23020219800112%03d", e.units+1))
	n, title := e.unit("齐齐哈尔市龙沙区卜奎大街 18 号 3 单元 502 室", owner)
	written := owner
	written.Name = "張偉"
	id, status := e.submit(p, e.application(p, ref, n, title, 680_000_00, written))
	if status != "desk" {
		e.t.Fatalf("near match %s: status %s, want desk", ref, status)
	}
	return id
}

// reviewBundle sends a clean bundle the bank asks a person to review.
func (e *env) reviewBundle(p partners.Partner, ref string, owner mortgage.Party, why string) string {
	e.t.Helper()
	n, title := e.unit("齐齐哈尔市建华区新华路 66 号 1 单元 1201 室", owner)
	app := e.application(p, ref, n, title, 450_000_00, owner)
	app.ReviewRequest = why
	id, status := e.submit(p, app)
	if status != "desk" {
		e.t.Fatalf("review request %s: status %s, want desk", ref, status)
	}
	return id
}

func (e *env) status(id string) (status string, decidedBy string) {
	e.t.Helper()
	var by *string
	if err := e.db.QueryRow(`SELECT status, decided_by FROM bundles WHERE id = $1`, id).Scan(&status, &by); err != nil {
		e.t.Fatal(err)
	}
	if by != nil {
		decidedBy = *by
	}
	return status, decidedBy
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, q, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// pdfMaterial is a small, valid one-page PDF that says text.
func pdfMaterial(kind, name, text string) mortgage.Material {
	return material(kind, name, "application/pdf", makePDF(text))
}

func pngMaterial(kind, name string) mortgage.Material {
	return material(kind, name, "image/png", makePNG())
}

func material(kind, name, media string, b []byte) mortgage.Material {
	sum := sha256.Sum256(b)
	return mortgage.Material{Kind: kind, FileName: name, MediaType: media, SHA256: hex.EncodeToString(sum[:]), Content: b}
}

func makePDF(text string) []byte {
	text = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(text)
	stream := "BT /F1 18 Tf 72 760 Td (" + text + ") Tj ET\nBT /F1 11 Tf 72 730 Td (Qiqihar Real Estate Registration Centre - test document) Tj ET\n"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(stream), stream),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// makePNG draws something like a scanned ID card: a card with a photo box
// and lines of text.
func makePNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 540, 340))
	fill := func(x0, y0, x1, y1 int, c color.RGBA) {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				img.Set(x, y, c)
			}
		}
	}
	fill(0, 0, 540, 340, color.RGBA{236, 238, 240, 255})
	fill(20, 20, 520, 320, color.RGBA{250, 246, 232, 255})
	fill(380, 60, 490, 200, color.RGBA{200, 208, 216, 255})
	for i, w := range []int{200, 260, 300, 180, 320} {
		fill(50, 70+i*40, 50+w, 82+i*40, color.RGBA{90, 96, 104, 255})
	}
	fill(50, 280, 470, 292, color.RGBA{140, 30, 20, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// staffClient is a member of staff using the console over plain HTTP.
type staffClient struct {
	t    *testing.T
	e    *env
	http *http.Client
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs username in and returns their client.
func (e *env) signIn(username string) *staffClient {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &staffClient{t: e.t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	res := c.signInAs(username, testPassword)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/console/queue" {
		e.t.Fatalf("sign in %s: %d %s", username, res.status, res.body)
	}
	return c
}

// signInAs posts the sign-in form and returns the answer.
func (c *staffClient) signInAs(username, password string) page {
	c.t.Helper()
	form := c.get("/console/signin")
	return c.post("/console/signin", url.Values{"csrf": {form.csrf()}, "username": {username}, "password": {password}})
}

type page struct {
	status int
	header http.Header
	body   string
}

func (p page) csrf() string {
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (c *staffClient) do(req *http.Request) page {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, res.Header, string(b)}
}

func (c *staffClient) get(path string) page {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.url+path, nil)
	return c.do(req)
}

func (c *staffClient) post(path string, form url.Values) page {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// token is the client's CSRF token, read from a page as the browser would.
func (c *staffClient) token() string {
	c.t.Helper()
	tok := c.get("/console/queue").csrf()
	if tok == "" {
		c.t.Fatal("no CSRF token on the queue page")
	}
	return tok
}

// flash follows a redirect and returns the message shown on the next page.
var flashRE = regexp.MustCompile(`id="flash">([^<]*)<`)

func (c *staffClient) flashAfter(p page) string {
	c.t.Helper()
	if p.status != http.StatusSeeOther {
		c.t.Fatalf("want a redirect, got %d: %s", p.status, p.body)
	}
	next := c.get(p.header.Get("Location"))
	m := flashRE.FindStringSubmatch(next.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func newJar() http.CookieJar {
	jar, _ := cookiejar.New(nil)
	return jar
}
