package console_test

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mortgaged/mortgage"
)

// Every page renders for every role, in Chinese, with who is signed in.
func TestPagesRender(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.nearMatchBundle(bankA, "LJB-20261126-0101")
	li := person("李娜", "23020419850306002")
	n, title := e.unit("齐齐哈尔市铁锋区站前大街 9 号", li)
	e.submit(bankB, e.application(bankB, "HC-20261126-0001", n, title, 350_000_00, li))
	for _, who := range []string{"wangli", "zhaolei", "sunyue"} {
		c := e.signIn(who)
		for _, path := range []string{"/console/queue", "/console/queue?state=registered", "/console/bundles/" + id, "/console/promises",
			"/console/dashboard", "/console/dashboard?from=2026-11-01&to=2026-11-26", "/console/calendar", "/console/rules", "/console/dead-letters"} {
			p := c.get(path)
			if p.status != http.StatusOK {
				t.Fatalf("%s GET %s: %d\n%s", who, path, p.status, p.body)
			}
			if !strings.Contains(p.body, `id="who"`) || !strings.Contains(p.body, "退出") {
				t.Errorf("%s GET %s: no signed-in header", who, path)
			}
		}
	}
}

// Wrong passwords and unknown users get the same answer; the session
// cookie is HttpOnly, SameSite=Strict, scoped to /console, and only its
// hash is stored.
func TestSignIn(t *testing.T) {
	t.Parallel()
	e := setup(t)
	anon := &staffClient{t: t, e: e, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	// Both failures run the same argon2id work (an unknown user is checked
	// against a dummy hash of the same cost: TestUnknownUserCostsTheSameHashing),
	// so only their answers are compared here, never their timings.
	failed := func(user, pass string) page {
		cl := &staffClient{t: t, e: e, http: &http.Client{Jar: newJar(), CheckRedirect: anon.http.CheckRedirect}}
		form := cl.get("/console/signin")
		return cl.post("/console/signin", url.Values{"csrf": {form.csrf()}, "username": {user}, "password": {pass}})
	}
	wrong := failed("wangli", "not-the-password")
	unknown := failed("nobody", "not-the-password")
	if wrong.status != http.StatusUnauthorized || unknown.status != http.StatusUnauthorized {
		t.Fatalf("failed sign-ins: %d and %d, want 401", wrong.status, unknown.status)
	}
	msg := "用户名或密码错误。"
	if !strings.Contains(wrong.body, msg) || !strings.Contains(unknown.body, msg) {
		t.Errorf("failed sign-ins must say %q for both", msg)
	}

	// The cookie.
	jar := newJar()
	cl := &staffClient{t: t, e: e, http: &http.Client{Jar: jar, CheckRedirect: anon.http.CheckRedirect}}
	res := cl.signInAs("wangli", testPassword)
	var sess *http.Cookie
	for _, ck := range (&http.Response{Header: res.header}).Cookies() {
		if ck.Name == "mgd_session" {
			sess = ck
		}
	}
	if sess == nil {
		t.Fatal("no mgd_session cookie")
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/console" || sess.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/console, not Secure on plain HTTP", sess)
	}
	if len(sess.Value) < 43 {
		t.Errorf("session id %q is shorter than 256 bits", sess.Value)
	}
	sum := sha256.Sum256([]byte(sess.Value))
	if n := e.count(`SELECT count(*) FROM staff_sessions WHERE id_hash = $1`, sum[:]); n != 1 {
		t.Errorf("%d sessions stored under the SHA-256 of the cookie, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM staff_sessions WHERE encode(id_hash, 'escape') LIKE '%' || $1 || '%'`, sess.Value); n != 0 {
		t.Error("the session id is stored in clear")
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE actor = 'staff:wangli' AND action = 'staff.signin'`); n < 1 {
		t.Error("sign-in not audited")
	}

	// Unauthenticated requests are sent to sign in; nothing is served.
	if p := anon.get("/console/queue"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/console/signin") {
		t.Errorf("anonymous GET queue: %d %s", p.status, p.header.Get("Location"))
	}
	// The sign-in form itself is CSRF-protected.
	if p := anon.post("/console/signin", url.Values{"username": {"wangli"}, "password": {testPassword}}); p.status != http.StatusForbidden {
		t.Errorf("sign-in without the form token: %d, want 403", p.status)
	}
}

func TestSecureCookieWhenConfigured(t *testing.T) {
	t.Parallel()
	e := setup(t, envOptions{secureCookies: true})
	jar := newJar()
	c := &staffClient{t: t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	form := c.get("/console/signin")
	res := c.post("/console/signin", url.Values{"csrf": {form.csrf()}, "username": {"wangli"}, "password": {testPassword}})
	found := false
	for _, ck := range (&http.Response{Header: res.header}).Cookies() {
		if ck.Name == "mgd_session" {
			found = true
			if !ck.Secure {
				t.Error("session cookie not Secure with SecureCookies")
			}
		}
	}
	if !found {
		t.Fatalf("no session cookie: %d %s", res.status, res.body)
	}
}

// A session ends after the idle timeout, after its absolute lifetime, and
// at sign-out; a disabled account's sessions end at once.
func TestSessionLifetime(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.signIn("wangli")
	e.clock.Add(29 * time.Minute)
	if p := c.get("/console/queue"); p.status != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d", p.status)
	}
	e.clock.Add(31 * time.Minute)
	if p := c.get("/console/queue"); p.status != http.StatusSeeOther {
		t.Fatalf("after 31 idle minutes: %d, want a redirect to sign in", p.status)
	}
	if n := e.count(`SELECT count(*) FROM staff_sessions WHERE username = 'wangli'`); n != 0 {
		t.Errorf("%d idle sessions left", n)
	}

	c = e.signIn("wangli")
	for range 12 * 60 / 20 { // busy all day, never idle
		e.clock.Add(20 * time.Minute)
		if p := c.get("/console/queue"); p.status != http.StatusOK {
			break
		}
	}
	e.clock.Add(20 * time.Minute)
	if p := c.get("/console/queue"); p.status != http.StatusSeeOther {
		t.Errorf("a session more than 12 hours old still works: %d", p.status)
	}

	c = e.signIn("wangli")
	if p := c.post("/console/signout", url.Values{"csrf": {c.token()}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.status)
	}
	if p := c.get("/console/queue"); p.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", p.status)
	}
	if n := e.count(`SELECT count(*) FROM staff_sessions WHERE username = 'wangli'`); n != 0 {
		t.Errorf("%d sessions after sign-out", n)
	}
}

// A POST without the session's token, with a wrong one, or from another
// site changes nothing and gets the Chinese 403 page.
func TestCSRF(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.nearMatchBundle(bankA, "LJB-CSRF-1")
	c := e.signIn("wangli")
	good := c.token()
	for name, form := range map[string]url.Values{
		"no token":    {},
		"wrong token": {"csrf": {strings.Repeat("A", len(good))}},
		"empty token": {"csrf": {""}},
	} {
		p := c.post("/console/bundles/"+id+"/approve", form)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "请求被拒绝") {
			t.Errorf("%s: %d, want the 403 page", name, p.status)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/console/bundles/"+id+"/approve", strings.NewReader(url.Values{"csrf": {good}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := c.do(req); p.status != http.StatusForbidden {
		t.Errorf("cross-site POST with a valid token: %d, want 403", p.status)
	}
	if s, _ := e.status(id); s != "desk" {
		t.Fatalf("bundle is %s after refused POSTs", s)
	}
}

// Roles are enforced on the server whatever the page shows.
func TestRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.nearMatchBundle(bankA, "LJB-ROLE-1")
	auditor := e.signIn("sunyue")
	page := auditor.get("/console/bundles/" + id)
	if strings.Contains(page.body, `id="approve-form"`) || strings.Contains(page.body, `id="refuse-form"`) {
		t.Error("the auditor is shown decision forms")
	}
	tok := auditor.token()
	for _, path := range []string{"/approve", "/refuse", "/reassign"} {
		p := auditor.post("/console/bundles/"+id+path, url.Values{"csrf": {tok}, "code": {"other"}, "note": {"x"}, "to": {"wangli"}})
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "无权操作") {
			t.Errorf("auditor POST %s: %d, want 403", path, p.status)
		}
	}
	reviewer := e.signIn("wangli")
	rtok := reviewer.token()
	for _, path := range []string{"/console/bundles/" + id + "/reassign", "/console/rules/amount_review", "/console/calendar", "/console/dead-letters/evt_x/redeliver"} {
		if p := reviewer.post(path, url.Values{"csrf": {rtok}, "to": {"liuyang"}, "params": {"{}"}}); p.status != http.StatusForbidden {
			t.Errorf("reviewer POST %s: %d, want 403", path, p.status)
		}
	}
	if s, _ := e.status(id); s != "desk" {
		t.Fatalf("bundle is %s", s)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'desk.%' OR action LIKE 'routing_rule.%' OR action LIKE 'calendar.%'`); n != 0 {
		t.Errorf("%d audit rows from refused actions", n)
	}

	// The supervisor reassigns: to nobody first, which the officer is told
	// in words, not as a system error.
	sup := e.signIn("zhaolei")
	if msg := sup.flashAfter(sup.post("/console/bundles/"+id+"/reassign", url.Values{"csrf": {sup.token()}, "to": {"nobody"}})); !strings.Contains(msg, "承办人 nobody 不存在") {
		t.Errorf("reassign to nobody: %q", msg)
	}
	if msg := sup.flashAfter(sup.post("/console/bundles/"+id+"/reassign", url.Values{"csrf": {sup.token()}, "to": {"liuyang"}})); !strings.Contains(msg, "已改派") {
		t.Errorf("reassign: %q", msg)
	}
	var to string
	_ = e.db.Get(&to, `SELECT assigned_to FROM bundles WHERE id = $1`, id)
	if to != "liuyang" {
		t.Errorf("assigned to %q", to)
	}
	if msg := sup.flashAfter(sup.post("/console/bundles/"+id+"/reassign", url.Values{"csrf": {sup.token()}, "to": {"sunyue"}})); !strings.Contains(msg, "未改派") {
		t.Errorf("reassign to an auditor: %q", msg)
	}
}

// Two reviewers approving at the same moment register the bundle once; the
// second is told who was first.
func TestConcurrentApproval(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.nearMatchBundle(bankA, "LJB-RACE-1")
	a, b := e.signIn("wangli"), e.signIn("liuyang")
	ta, tb := a.token(), b.token()
	var wg sync.WaitGroup
	res := make([]page, 2)
	for i, c := range []*staffClient{a, b} {
		tok := []string{ta, tb}[i]
		wg.Go(func() { res[i] = c.post("/console/bundles/"+id+"/approve", url.Values{"csrf": {tok}}) })
	}
	wg.Wait()
	msgs := []string{a.flashAfter(res[0]), b.flashAfter(res[1])}
	ok, told := 0, 0
	for _, m := range msgs {
		if strings.Contains(m, "已核准登簿") {
			ok++
		}
		if strings.Contains(m, "处理（已登簿）") {
			told++
		}
	}
	if ok != 1 || told != 1 {
		t.Errorf("messages %q: want one approval and one 'already decided by'", msgs)
	}
	if n := e.count(`SELECT count(*) FROM mortgage_units mu JOIN bundles b ON b.mortgage_id = mu.mortgage_id WHERE b.id = $1`, id); n != 1 {
		t.Errorf("%d mortgage rows for the bundle, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE subject = $1 AND action = 'desk.approved'`, id); n != 1 {
		t.Errorf("%d approvals audited", n)
	}
}

// Documents are served inline with their own type, only to staff.
func TestMaterialInline(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id := e.nearMatchBundle(bankA, "LJB-DOC-1")
	c := e.signIn("sunyue")
	for seq, want := range map[string]string{"1": "application/pdf", "4": "image/png"} {
		p := c.get("/console/bundles/" + id + "/materials/" + seq)
		if p.status != http.StatusOK || p.header.Get("Content-Type") != want || !strings.HasPrefix(p.header.Get("Content-Disposition"), "inline") {
			t.Errorf("material %s: %d %q %q", seq, p.status, p.header.Get("Content-Type"), p.header.Get("Content-Disposition"))
		}
		if p.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("material %s: no nosniff", seq)
		}
	}
	anon := &staffClient{t: t, e: e, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if p := anon.get("/console/bundles/" + id + "/materials/1"); p.status != http.StatusSeeOther || strings.Contains(p.body, "%PDF") {
		t.Errorf("anonymous material: %d", p.status)
	}
	if p := c.get("/console/bundles/" + id + "/materials/99"); p.status != http.StatusNotFound {
		t.Errorf("missing material: %d", p.status)
	}
}

// TestSettingsJSONStrict: a setting that names a member twice, however
// escaped, is refused and nothing changes (PROMISES S7).
func TestSettingsJSONStrict(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sup := e.signIn("zhaolei")
	for _, params := range []string{`{"aboveFen": 500000000, "aboveFen": 1}`, `{"aboveFen": 500000000, "above\u0046en": 1}`, `{"aboveFen": 5, "note": "\ud800"}`, `{"aboveFen": 5, "note": "a\u0000"}`} {
		if msg := sup.flashAfter(sup.post("/console/rules/amount_review", url.Values{"csrf": {sup.token()}, "enabled": {"on"}, "params": {params}})); !strings.Contains(msg, "未保存") {
			t.Errorf("rule %s: %q", params, msg)
		}
	}
	year := `{"year": 2027, "year": 2031, "source": "国务院办公厅关于2027年部分节假日安排的通知", "holidays": [{"from": "2027-01-01", "to": "2027-01-03", "name": "元旦"}], "workdays": []}`
	if msg := sup.flashAfter(sup.post("/console/calendar", url.Values{"csrf": {sup.token()}, "notice": {year}})); !strings.Contains(msg, "/year") || !strings.Contains(msg, "未载入") {
		t.Errorf("calendar with year twice: %q", msg)
	}
	// A raw NUL or broken UTF-8 in any form field: a 400 page naming it.
	for _, v := range []string{"{\"aboveFen\": 5}\x00", "\xff"} {
		if p := sup.post("/console/rules/amount_review", url.Values{"csrf": {sup.token()}, "enabled": {"on"}, "params": {v}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "params") {
			t.Errorf("rule params %q: %d %.300s", v, p.status, p.body)
		}
	}
	if p := sup.post("/console/bundles/b1/refuse", url.Values{"csrf": {sup.token()}, "reason": {"x"}, "note": {"备注\x00"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "note") {
		t.Errorf("refusal note with NUL: %d %.300s", p.status, p.body)
	}
	nul := `{"year": 2027, "source": "国务院办公厅\u0000", "holidays": [{"from": "2027-01-01", "to": "2027-01-03", "name": "元旦"}], "workdays": []}`
	if msg := sup.flashAfter(sup.post("/console/calendar", url.Values{"csrf": {sup.token()}, "notice": {nul}})); !strings.Contains(msg, "控制字符") {
		t.Errorf("calendar with an escaped NUL: %q", msg)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'routing_rule.%' OR action LIKE 'calendar.%'`); n != 0 {
		t.Errorf("%d settings changed", n)
	}
}

// Supervisors load calendar years and edit routing rules; both are audited
// and validated.
func TestSupervisorSettings(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sup := e.signIn("zhaolei")
	year := `{"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知", "holidays": [{"from": "2027-01-01", "to": "2027-01-01", "name": "元旦"}, {"from": "2027-02-06", "to": "2027-02-06", "name": "春节"}, {"from": "2027-04-05", "to": "2027-04-05", "name": "清明节"}, {"from": "2027-05-01", "to": "2027-05-01", "name": "劳动节"}, {"from": "2027-06-09", "to": "2027-06-09", "name": "端午节"}, {"from": "2027-09-15", "to": "2027-09-15", "name": "中秋节"}, {"from": "2027-10-01", "to": "2027-10-01", "name": "国庆节"}], "workdays": []}`
	if msg := sup.flashAfter(sup.post("/console/calendar", url.Values{"csrf": {sup.token()}, "notice": {year}})); !strings.Contains(msg, "已载入 2027 年") {
		t.Errorf("load 2027: %q", msg)
	}
	bad := `{"year": 2027, "holidays": [{"from": "2028-01-01", "to": "2028-01-02", "name": "x"}]}`
	if msg := sup.flashAfter(sup.post("/console/calendar", url.Values{"csrf": {sup.token()}, "notice": {bad}})); !strings.Contains(msg, "校验未通过") {
		t.Errorf("bad notice: %q", msg)
	}
	if n := e.count(`SELECT count(*) FROM calendar_years`); n != 1 {
		t.Errorf("%d calendar years stored, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'calendar.load' AND actor = 'staff:zhaolei'`); n != 1 {
		t.Errorf("%d calendar audit rows", n)
	}
	if p := sup.get("/console/calendar"); !strings.Contains(p.body, "2027 年") || !strings.Contains(p.body, "2026 年") {
		t.Error("calendar page does not list 2026 and 2027")
	}

	if msg := sup.flashAfter(sup.post("/console/rules/amount_review", url.Values{"csrf": {sup.token()}, "enabled": {"on"}, "params": {`{"aboveFen": 500000000}`}})); !strings.Contains(msg, "已保存") {
		t.Errorf("rule: %q", msg)
	}
	if msg := sup.flashAfter(sup.post("/console/rules/amount_review", url.Values{"csrf": {sup.token()}, "params": {`{"aboveFen": -1}`}})); !strings.Contains(msg, "未保存") {
		t.Errorf("bad rule: %q", msg)
	}
	// A misspelt parameter is shown, naming it, and not saved as a threshold of 0.
	if msg := sup.flashAfter(sup.post("/console/rules/amount_review", url.Values{"csrf": {sup.token()}, "enabled": {"on"}, "params": {`{"above_fen": 500000000}`}})); !strings.Contains(msg, "未保存") || !strings.Contains(msg, "above_fen") {
		t.Errorf("misspelt rule parameter: %q, want it refused naming above_fen", msg)
	}
	var params string
	var enabled bool
	if err := e.db.QueryRow(`SELECT params::text, enabled FROM routing_rules WHERE kind = 'amount_review'`).Scan(&params, &enabled); err != nil {
		t.Fatal(err)
	}
	if params != `{"aboveFen": 500000000}` || !enabled {
		t.Errorf("rule is %s (enabled %v)", params, enabled)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'routing_rule.update' AND detail->'after'->'params'->>'aboveFen' = '500000000'`); n != 1 {
		t.Errorf("%d rule audit rows", n)
	}
	// The desk uses the new threshold at once on this node.
	owner := person("周丹", "23020319900909008")
	n, title := e.unit("齐齐哈尔市昂昂溪区", owner)
	if _, status := e.submit(bankA, e.application(bankA, "LJB-AMT-1", n, title, 6_000_000_00, owner)); status != "desk" {
		t.Errorf("6 million yuan after lowering the threshold to 5 million: %s, want desk", status)
	}
}

// TestPromiseOwedBlocksApproval: the bundle page says which promised
// documents the registration needs and by when; approving while one is owed
// registers nothing and tells the officer why (先行受理, not 登簿 without it).
func TestPromiseOwedBlocksApproval(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.svc.Config.Promisable = []string{"identity_document", "loan_contract"} // a local list wider than the default
	e.exec(`UPDATE routing_rules SET params = '{"allowed": ["identity_document", "loan_contract"], "maxWorkingDays": 5}' WHERE kind = 'promised_document'`)
	e.svc.InvalidateRouting()
	owner := person("唐军", "23020619900106009")
	n, title := e.unit("齐齐哈尔市富拉尔基区和平大街 76 号 4 单元 201 室", owner)
	app := e.application(bankA, "LJB-PROMISE-1", n, title, 380_000_00, owner)
	app.Materials = slices.DeleteFunc(app.Materials, func(m mortgage.Material) bool { return m.Kind == "loan_contract" })
	app.Promises = []mortgage.Promise{{Kind: "loan_contract", DueOn: mortgage.NewDate(2026, 11, 30)}}
	id, status := e.submit(bankA, app)
	if status != "desk" {
		t.Fatalf("submit: %s", status)
	}
	c := e.signIn("wangli")
	p := c.get("/console/bundles/" + id)
	if !strings.Contains(p.body, "2026-11-30") || !strings.Contains(p.body, "登记必需，补交前不能核准") {
		t.Errorf("bundle page does not show the owed loan contract and its date:\n%s", p.body)
	}
	msg := c.flashAfter(c.post("/console/bundles/"+id+"/approve", url.Values{"csrf": {c.token()}}))
	if !strings.Contains(msg, "承诺补交的材料尚未补交") || !strings.Contains(msg, "主债权合同") {
		t.Errorf("approving with the loan contract owed: %q", msg)
	}
	if n := e.count(`SELECT count(*) FROM bundles WHERE id = $1 AND status = 'desk'`, id); n != 1 {
		t.Errorf("bundle left the desk while the loan contract is owed")
	}
}

// The dashboard shows the counts behind 当日办结率: every bundle received is
// in the denominator, the one still at the desk included.
func TestDashboardSameDayCounts(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.nearMatchBundle(bankA, "LJB-20261126-0101")
	li := person("李娜", "23020419850306002")
	n, title := e.unit("齐齐哈尔市铁锋区站前大街 9 号", li)
	e.submit(bankB, e.application(bankB, "HC-20261126-0001", n, title, 350_000_00, li))
	p := e.signIn("sunyue").get("/console/dashboard")
	if p.status != http.StatusOK {
		t.Fatalf("GET /console/dashboard: %d", p.status)
	}
	if !strings.Contains(p.body, "2 件中 1 件当日办结，1 件仍在办") || !strings.Contains(p.body, "50.0%") {
		t.Errorf("dashboard does not show 1 of 2 decided the same day:\n%s", p.body)
	}
}
