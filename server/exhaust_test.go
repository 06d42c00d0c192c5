package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mortgaged/server"
)

// rawRequest sends req's line and headers, then only the first n bytes of
// body, over a TCP connection of its own, and returns the connection: the
// test decides what the server sees next.
func (a *api) rawRequest(req *http.Request, body []byte, n int) (net.Conn, *bufio.Reader) {
	a.t.Helper()
	u, _ := url.Parse(a.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { conn.Close() })
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Method, req.URL.RequestURI(), u.Host, len(body))
	if err := req.Header.Write(&head); err != nil {
		a.t.Fatal(err)
	}
	head.WriteString("\r\n")
	head.Write(body[:n])
	if _, err := conn.Write(head.Bytes()); err != nil {
		a.t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

func readResponse(t *testing.T, br *bufio.Reader) response {
	t.Helper()
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

// PROMISES A6, memory: past the node's body budget a request is answered
// 503 with Retry-After before a byte of its body is read — proved by not
// sending the body at all — and once the budget is free the same request
// goes through. Under a concurrent flood of largest bodies every answer is
// 201, 4xx or 503, and the heap stays bounded by the budget, not by the
// number of requests.
//
// Not parallel: it measures the process's heap, which other tests running
// at the same time would grow (Go runs the parallel tests after this one).
func TestBodyBudget(t *testing.T) {
	const budget = 4 << 20
	var srv *server.Server
	a := setup(t, func(s *server.Server) { srv, s.BodyBudget = s, budget })
	if _, err := a.db.Exec(`UPDATE partners SET max_concurrent = 64, rate_per_minute = 100000`); err != nil {
		t.Fatal(err)
	}
	body := a.body("LJB-BUDGET-1")

	release := server.HoldBodyBudget(srv, budget-len64(body)/2) // bodies in flight
	conn, br := a.rawRequest(a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, a.now()), body, 0)
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute)) // a server waiting for the body fails the test, not the run
	r := readResponse(t, br)
	if r.status != http.StatusServiceUnavailable || problemCode(t, r) != "server_busy" {
		t.Fatalf("over the budget: %d %s, want 503 server_busy", r.status, r.body)
	}
	loadContract(t).check(t, http.MethodPost, "/v1/bundles", r)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// A chunked body, of unknown length, reserves the route's whole limit.
	req := a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, a.now())
	req.Body, req.ContentLength = io.NopCloser(io.MultiReader(bytes.NewReader(body))), -1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("chunked body over the budget: %d, want 503", res.StatusCode)
	}
	release()
	if r := a.post("lj-bank", body); r.status != http.StatusCreated {
		t.Fatalf("within the budget: %d %s", r.status, r.body)
	}

	// A flood: 24 bodies of 1 MB (the route's limit here) at once against
	// a 4 MB budget.
	big := bytes.Replace(a.body("LJB-BUDGET-2"), []byte(`"mortgage":`), []byte(`"padding":"`+strings.Repeat("x", 1<<20-8<<10)+`","mortgage":`), 1)
	heap, _ := memory()
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			r := a.post("lj-bank", big)
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
			if r.status >= 500 && r.status != http.StatusServiceUnavailable {
				t.Errorf("%d %s", r.status, r.body)
			}
			if r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
	wg.Wait()
	heapAfter, _ := memory()
	t.Logf("answers %v; heap %+d KB", statuses, (int64(heapAfter)-int64(heap))>>10)
	if kept := int64(heapAfter) - int64(heap); kept > 8<<20 {
		t.Errorf("the heap kept %d MB after the flood", kept>>20)
	}
	if n := a.count("bundles"); n != 1 {
		t.Errorf("%d bundles, want only the first (the padded ones are refused)", n)
	}
}

func len64(b []byte) int64 { return int64(len(b)) }

// A body that trickles in is cut off at its deadline and answered 408 with
// a problem, not 500; nothing is written. The test's deadline is short, and
// it waits for the server's answer, not for a clock.
func TestSlowBodyGets408(t *testing.T) {
	t.Parallel()
	a := setup(t, func(s *server.Server) { s.BodyTimeout = 300 * time.Millisecond })
	body := a.body("LJB-SLOW-1")
	conn, br := a.rawRequest(a.signed("lj-bank", http.MethodPost, "/v1/bundles", body, a.now()), body, len(body)/2)
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute)) // a hung server fails the test, not the run
	r := readResponse(t, br)
	if r.status != http.StatusRequestTimeout || problemCode(t, r) != "request_timeout" {
		t.Fatalf("trickled body: %d %s, want 408 request_timeout", r.status, r.body)
	}
	loadContract(t).check(t, http.MethodPost, "/v1/bundles", r)
	if n := a.count("bundles"); n != 0 {
		t.Errorf("%d bundles after a cut-off body", n)
	}
	// The next partner request is served as usual.
	if r := a.post("lj-bank", body); r.status != http.StatusCreated {
		t.Errorf("after a slow body: %d %s", r.status, r.body)
	}
}

// The public listener's own deadlines: a client that never finishes its
// headers is disconnected.
func TestSlowHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	hs := server.HTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 10*time.Second || hs.ReadTimeout <= 0 || hs.ReadTimeout > time.Minute {
		t.Errorf("header timeout %v, read timeout %v: want short ones before authentication", hs.ReadHeaderTimeout, hs.ReadTimeout)
	}
	hs.ReadHeaderTimeout = 200 * time.Millisecond // the test's, so it is quick
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("unfinished headers: read %d bytes, %v; want the connection closed", n, err)
	}
}

// PROMISES "Logs": nothing a partner sends reaches a log line unclipped. A
// 12 MB reference (and ID number and type) gets a 4xx, and no line of the
// server's log is longer than a few KB.
func TestHugeValuesAreNotLogged(t *testing.T) {
	t.Parallel()
	var lines logLines
	a := setup(t, func(s *server.Server) {
		s.MaxBodyBytes = server.DefaultMaxBodyBytes
		server.SetLog(s, slog.New(slog.NewJSONHandler(&lines, &slog.HandlerOptions{Level: slog.LevelDebug})))
	})
	huge := strings.Repeat("R", 12<<20)
	var app map[string]any
	if err := json.Unmarshal(a.body("LJB-LOG-1"), &app); err != nil {
		t.Fatal(err)
	}
	app["reference"] = huge
	body, _ := json.Marshal(app)
	if r := a.post("lj-bank", body); r.status < 400 || r.status >= 500 {
		t.Errorf("12 MB reference: %d, want 4xx", r.status)
	}
	app["reference"] = "LJB-LOG-2"
	app["type"] = huge
	app["mortgagors"].([]any)[0].(map[string]any)["idNumber"] = huge
	body, _ = json.Marshal(app)
	if r := a.post("lj-bank", body); r.status < 400 || r.status >= 500 {
		t.Errorf("12 MB type and ID number: %d, want 4xx", r.status)
	}
	// Registered, with a long (valid) reference: logged, clipped.
	if r := a.post("lj-bank", a.body("LJB-LOG-3")); r.status != http.StatusCreated {
		t.Fatalf("a valid bundle: %d %s", r.status, r.body)
	}
	n, longest := lines.stats()
	if n == 0 {
		t.Fatal("nothing was logged")
	}
	if longest > 4<<10 {
		t.Errorf("a log line of %d bytes", longest)
	}
	if !lines.contains(`"reference":"LJB-LOG-3"`) {
		t.Error("the registered bundle's reference is not logged")
	}
}

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(b))
	return len(b), nil
}

func (l *logLines) stats() (n, longest int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		longest = max(longest, len(s))
	}
	return len(l.lines), longest
}

func (l *logLines) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// An unknown key id gets exactly the answer a wrong signature gets (status,
// code, message), so key ids cannot be probed; with a stale timestamp both
// are signature_expired.
func TestUnknownKeyLooksLikeWrongSignature(t *testing.T) {
	t.Parallel()
	a := setup(t)
	now := a.now()
	answer := func(keyID string, at time.Time) response {
		req := a.signed("hc-bank", http.MethodGet, "/v1/bundles?reference=x", nil, at)
		req.Header.Set("X-Mgd-Key-Id", keyID)
		return a.send(req, nil)
	}
	known := a.keys["lj-bank"][3:19] // lj-bank's key id, signed with hc-bank's secret
	for name, at := range map[string]time.Time{"fresh": now, "stale": now.Add(-time.Hour)} {
		wrong, unknown := answer(known, at), answer("0000000000000000", at)
		if wrong.status != http.StatusUnauthorized || wrong.status != unknown.status || !bytes.Equal(wrong.body, unknown.body) {
			t.Errorf("%s: wrong signature %d %s, unknown key %d %s: want the same answer", name, wrong.status, wrong.body, unknown.status, unknown.body)
		}
	}
}

// ?after= past what a record index can be is a 400 naming the parameter,
// not a 500.
func TestBatchAfterOverflow(t *testing.T) {
	t.Parallel()
	a := setup(t)
	for _, after := range []string{"9223372036854775807", "2147483648", "99999999999999999999"} {
		r := a.do(http.MethodGet, "/v1/batches/bxxxxxxxxxxxxxxxx?after="+after, "lj-bank", "", nil)
		if r.status != http.StatusBadRequest || !bytes.Contains(r.body, []byte(`"field":"after"`)) {
			t.Errorf("after=%s: %d %s, want 400 naming after", after, r.status, r.body)
		}
	}
}

// Supplying a document to another partner's bundle is 404, whatever state
// that bundle is in (A1): today it said 409 for a decided one.
func TestSupplyToAnotherPartnersBundle(t *testing.T) {
	t.Parallel()
	a := setup(t)
	r := a.post("lj-bank", a.body("LJB-OTHER-1"))
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	id := r.json(t)["bundleId"].(string)
	var app map[string]any
	if err := json.Unmarshal(a.body("LJB-OTHER-2"), &app); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(app["materials"].([]any)[1]) // the loan contract
	for partner, want := range map[string]int{"hc-bank": http.StatusNotFound, "lj-bank": http.StatusConflict} {
		if r := a.do(http.MethodPost, "/v1/bundles/"+id+"/materials", partner, "application/json", doc); r.status != want {
			t.Errorf("%s supplies to lj-bank's decided bundle: %d %s, want %d", partner, r.status, r.body, want)
		}
	}
}

// Over TLS every answer carries HSTS; over plain HTTP none does.
func TestHSTSOverTLS(t *testing.T) {
	t.Parallel()
	var srv *server.Server
	a := setup(t, func(s *server.Server) { srv = s })
	ts := httptest.NewTLSServer(srv)
	t.Cleanup(ts.Close)
	for _, path := range []string{"/healthz", "/nowhere", "/v1/bundles/x"} {
		res, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if h := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
			t.Errorf("GET %s over TLS: Strict-Transport-Security %q", path, h)
		}
	}
	if r := a.do(http.MethodGet, "/healthz", "", "", nil); r.header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
}
