package console_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mortgaged/server/console"
)

// clientFrom is an anonymous client whose connections come from ip (any
// 127.x address reaches the loopback server), as a second machine would.
func (e *env) clientFrom(ip string) *staffClient {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &staffClient{t: e.t, e: e, http: &http.Client{Jar: newJar(), Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// PROMISES A6: no more than a few argon2id hashes run at once. With every
// slot busy, a sign-in, of a real user or an unknown one, is answered 429
// with Retry-After at once, without hashing; once a slot is free the same
// sign-in goes through.
func TestSigninHashingIsBounded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.clientFrom("127.0.0.1")
	release := console.HoldHashing(e.con)
	for _, user := range []string{"wangli", "nobody"} {
		p := c.signInAs(user, testPassword)
		if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "登录请求过多") {
			t.Errorf("%s with hashing busy: %d Retry-After %q, want 429 at once", user, p.status, p.header.Get("Retry-After"))
		}
	}
	release()
	if p := c.signInAs("wangli", testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in with a free slot: %d %s", p.status, p.body)
	}
	// A busy refusal is no failure: nothing was slowed.
	if n := len(e.throttleRows(e.signIn("zhaolei"))); n != 0 {
		t.Errorf("%d throttles after refusals for load, want none", n)
	}
}

// Failures slow the user name from the address they come from, and never
// lock the account: the real user from another address signs in at once,
// and the slowed address may try again after Retry-After (the clock moves).
func TestSigninSlowsWithoutLockingOut(t *testing.T) {
	t.Parallel()
	e := setup(t)
	stranger := e.clientFrom("127.0.0.1")
	for i := range 5 {
		if p := stranger.signInAs("wangli", "wrong-password-"+strconv.Itoa(i)); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, p.status)
		}
	}
	p := stranger.signInAs("wangli", testPassword) // even the right password waits
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "登录失败次数过多") {
		t.Fatalf("sixth try from the same address: %d, want 429", p.status)
	}
	if s, err := strconv.Atoi(p.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want 1–60 s", p.header.Get("Retry-After"))
	}
	// The account is not locked: the user at their own desk signs in.
	if p := e.clientFrom("127.0.0.2").signInAs("wangli", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("the real user from another address: %d, want signed in", p.status)
	}
	// Nor is anyone else from the slowed address.
	if p := e.clientFrom("127.0.0.1").signInAs("liuyang", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("another user from the slowed address: %d, want signed in", p.status)
	}
	e.clock.Add(time.Minute)
	if p := stranger.signInAs("wangli", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("after Retry-After: %d, want signed in", p.status)
	}
}

// throttleRows are the rows of the throttles page as the supervisor sees it.
func (e *env) throttleRows(c *staffClient) []string {
	e.t.Helper()
	p := c.get("/console/throttles")
	if p.status != http.StatusOK {
		e.t.Fatalf("throttles page: %d %s", p.status, p.body)
	}
	var rows []string
	if _, table, ok := strings.Cut(p.body, `<table class="list" id="throttles">`); ok {
		table, _, _ = strings.Cut(table, "</table>")
		rows = strings.Split(table, "<tr>")[2:] // after the header row
	}
	return rows
}

// A supervisor sees who is slowed and clears it (audited, CSRF-protected);
// other roles can do neither.
func TestSupervisorClearsThrottle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	stranger := e.clientFrom("127.0.0.1")
	for range 6 {
		stranger.signInAs("wangli", "wrong-password")
	}
	sup := e.signIn("zhaolei")
	rows := e.throttleRows(sup)
	var userRow string
	for _, r := range rows {
		if strings.Contains(r, "<code>wangli</code>") {
			userRow = r
		}
	}
	if userRow == "" {
		t.Fatalf("the supervisor does not see wangli slowed: %q", rows)
	}
	for _, who := range []string{"liuyang", "sunyue"} { // a reviewer and an auditor
		c := e.signIn(who)
		if p := c.get("/console/throttles"); p.status != http.StatusForbidden {
			t.Errorf("%s GET throttles: %d, want 403", who, p.status)
		}
		if p := c.post("/console/throttles/clear", url.Values{"csrf": {c.token()}, "kind": {"user"}, "user": {"wangli"}, "addr": {"127.0.0.1"}}); p.status != http.StatusForbidden {
			t.Errorf("%s clears a throttle: %d, want 403", who, p.status)
		}
	}
	if p := sup.post("/console/throttles/clear", url.Values{"kind": {"user"}, "user": {"wangli"}, "addr": {"127.0.0.1"}}); p.status != http.StatusForbidden {
		t.Errorf("clear without the CSRF token: %d, want 403", p.status)
	}
	if p := stranger.signInAs("wangli", testPassword); p.status != http.StatusTooManyRequests {
		t.Fatalf("still slowed before the supervisor clears: %d", p.status)
	}
	if msg := sup.flashAfter(sup.post("/console/throttles/clear", url.Values{"csrf": {sup.token()}, "kind": {"user"}, "user": {"wangli"}, "addr": {"127.0.0.1"}})); !strings.Contains(msg, "已清除") {
		t.Errorf("flash after clearing: %q", msg)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE actor = 'staff:zhaolei' AND action = 'signin.throttle_cleared' AND subject = '127.0.0.1'`); n != 1 {
		t.Errorf("%d audit rows for the clear, want 1", n)
	}
	if p := stranger.signInAs("wangli", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("after the clear: %d, want signed in", p.status)
	}
}

// The same, in a real browser: the supervisor opens the page from the menu
// and clears the slowed user name with the button.
func TestBrowserClearsThrottle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	stranger := e.clientFrom("127.0.0.2")
	for range 5 {
		stranger.signInAs("liuyang", "wrong-password")
	}
	ctx := newBrowser(t)
	signInBrowser(t, ctx, e, "zhaolei")
	if status := click(t, ctx, `nav a[href="/console/throttles"]`); status != 200 {
		t.Fatalf("throttles page: %d", status)
	}
	if got := text(t, ctx, "#throttles tbody"); !strings.Contains(got, "liuyang") || !strings.Contains(got, "127.0.0.2") {
		t.Fatalf("the page lists %q, want liuyang from 127.0.0.2", got)
	}
	// The user name's row (the address's own row stays: one failure kind each).
	sel := `#throttles tbody tr:has(code) form:has(input[name="kind"][value="user"]) button`
	if status := click(t, ctx, sel); status != 200 {
		t.Fatalf("clear: %d", status)
	}
	if msg := text(t, ctx, "#flash"); !strings.Contains(msg, "已清除") {
		t.Errorf("flash %q", msg)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE actor = 'staff:zhaolei' AND action = 'signin.throttle_cleared'`); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
	if p := stranger.signInAs("liuyang", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("after the clear: %d, want signed in", p.status)
	}
}

// Nothing a client sends reaches the log unclipped: a 300 KB user name, a
// long Origin and a long path give no line over a few KB.
func TestConsoleLogsAreClipped(t *testing.T) {
	t.Parallel()
	var lines lockedLines
	e := setup(t, envOptions{log: &lines})
	c := e.clientFrom("127.0.0.1")
	huge := strings.Repeat("名", 100<<10) // 300 KB; 900 KB in the form, under its 1 MB cap
	if p := c.signInAs(huge, "wrong-password"); p.status != http.StatusUnauthorized {
		t.Errorf("sign-in with a huge user name: %d", p.status)
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/console/bundles/"+strings.Repeat("b", 20<<10)+"/approve", strings.NewReader("x=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://"+strings.Repeat("o", 20<<10)+".example")
	c.do(req)
	if len(lines.all()) == 0 {
		t.Fatal("nothing was logged")
	}
	for _, l := range lines.all() {
		if len(l) > 4<<10 {
			t.Errorf("a log line of %d bytes: %.200s…", len(l), l)
		}
	}
}

type lockedLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *lockedLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(b))
	return len(b), nil
}

func (l *lockedLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}
