package console_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium with a fresh profile for the test.
// Without Chromium the test is skipped on a developer's machine and fails
// in CI (CI is set), so the browser tests can never silently not run there.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no Chromium at %s (apt-get install chromium); the browser tests run in CI", chromiumPath)
		}
		t.Fatalf("no Chromium at %s: .ci/run installs it", chromiumPath)
	}
	profile := t.TempDir() // removed after the browser is stopped (cleanups run last-in, first-out)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1440, 960),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser now, so failures say so
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// do runs steps and fails the test on the first error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// click clicks and waits for the page it leads to; it returns that page's
// HTTP status (after redirects).
func click(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	return int(res.Status)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// signInBrowser signs in through the form, as a person does.
func signInBrowser(t *testing.T, ctx context.Context, e *env, username string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(e.url+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
	)
	if status := click(t, ctx, "#signin"); status != 200 {
		t.Fatalf("sign in %s: status %d", username, status)
	}
	if who := text(t, ctx, "#who"); !strings.Contains(who, username) && !strings.Contains(who, "退出") {
		t.Fatalf("after sign-in the header says %q", who)
	}
}

// The desk in a real browser (PROMISES A4): sign in, work the queue,
// approve one bundle and refuse another, and see the register and the
// partner's view change; a form without its CSRF token fails and changes
// nothing; an auditor has no decision buttons and a forged POST is refused.
func TestBrowserDesk(t *testing.T) {
	t.Parallel()
	e := setup(t)
	first := e.nearMatchBundle(bankA, "LJB-20261126-0201") // deadline today 17:30
	second := e.reviewBundle(bankB, "HC-20261126-0077", person("陈静", "23020519870412004"), "借款人为本行员工，按内控要求申请人工审核")
	third := e.reviewBundle(fund, "GJJ-2026-118842", person("刘洋", "23020619920715001"), "公积金组合贷款，请核对借款合同")
	ctx := newBrowser(t)

	signInBrowser(t, ctx, e, "wangli")
	if who := text(t, ctx, "#who"); !strings.Contains(who, "王丽") || !strings.Contains(who, "审核员") {
		t.Errorf("header shows %q, want 王丽 审核员", who)
	}
	// The queue: every bundle at the desk, by deadline, with time left.
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll('#queue tbody tr')].map(r => r.dataset.bundle)`)
	if len(rows) != 3 {
		t.Fatalf("queue has %v, want 3 bundles", rows)
	}
	if q := text(t, ctx, "#queue"); !strings.Contains(q, "剩余 7 小时 30 分") || !strings.Contains(q, "姓名近似") {
		t.Errorf("queue does not show time left and reasons:\n%s", q)
	}

	// Open the first bundle: the register beside what the bank sent.
	if status := click(t, ctx, `a[href="/console/bundles/`+first+`"]`); status != 200 {
		t.Fatalf("bundle page: %d", status)
	}
	if cmp := text(t, ctx, "#compare"); !strings.Contains(cmp, "张伟") || !strings.Contains(cmp, "張偉") || !strings.Contains(cmp, "不一致") {
		t.Errorf("comparison does not mark 張偉 against 张伟:\n%s", cmp)
	}
	if n := eval[[]int](t, ctx, `['#materials a.doc-open', '#materials iframe.doc', '#materials img.doc'].map(s => document.querySelectorAll(s).length)`); fmt.Sprint(n) != "[4 1 1]" {
		t.Errorf("materials: %v links, viewers and images, want 4 documents, one viewer (PDF) and one image", n)
	}
	doc := eval[string](t, ctx, `fetch(document.querySelector('#materials iframe.doc').src).then(r => r.status + ' ' + r.headers.get('content-type') + ' ' + r.headers.get('content-disposition'))`)
	if !strings.HasPrefix(doc, "200 application/pdf inline") {
		t.Errorf("PDF served as %q", doc)
	}
	img := eval[bool](t, ctx, `(async () => { const i = document.querySelector('#materials img.doc'); i.loading = 'eager'; await i.decode(); return i.naturalWidth > 0 })()`)
	if !img {
		t.Error("the scanned ID does not display")
	}

	// Approve it.
	if status := click(t, ctx, "#approve"); status != 200 {
		t.Fatalf("approve: %d", status)
	}
	if f := text(t, ctx, "#flash"); !strings.Contains(f, "已核准登簿") {
		t.Errorf("after approving: %q", f)
	}
	if s, by := e.status(first); s != "registered" || by != "wangli" {
		t.Fatalf("approved bundle is %s by %q", s, by)
	}
	view := e.partnerView(bankA, first)
	reg, _ := view["registration"].(map[string]any)
	if view["status"] != "registered" || reg["certificateNumber"] == nil || reg["recordingOfficer"] != "王丽" {
		t.Errorf("the bank sees %v", view)
	}
	if n := e.count(`SELECT count(*) FROM mortgage_units mu JOIN bundles b ON b.mortgage_id = mu.mortgage_id AND mu.current WHERE b.id = $1`, first); n != 1 {
		t.Errorf("register: %d current mortgage rows for the approved bundle", n)
	}

	// Refuse the second, with a reason and a note.
	do(t, ctx, chromedp.Navigate(e.url+"/console/bundles/"+second), chromedp.WaitVisible(chromedp.CSS("#refuse-form")),
		chromedp.Click(chromedp.CSS(`#refuse-form input[value="identity_not_confirmed"]`)),
		chromedp.SendKeys(chromedp.CSS("#refuse-note"), "抵押人未到场核验身份"))
	if status := click(t, ctx, "#refuse"); status != 200 {
		t.Fatalf("refuse: %d", status)
	}
	if s, by := e.status(second); s != "rejected" || by != "wangli" {
		t.Fatalf("refused bundle is %s by %q", s, by)
	}
	view = e.partnerView(bankB, second)
	reasons, _ := view["reasons"].([]any)
	if view["status"] != "rejected" || len(reasons) != 1 || !strings.Contains(reasons[0].(map[string]any)["message"].(string), "抵押人未到场核验身份") {
		t.Errorf("the bank sees %v", view)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE subject IN ($1, $2) AND partner_id IN ('lj-bank', 'hc-bank')`, first, second); n < 2 {
		t.Errorf("%d partner events for the two decisions", n)
	}

	// A form posted without its CSRF token fails and changes nothing.
	do(t, ctx, chromedp.Navigate(e.url+"/console/bundles/"+third), chromedp.WaitVisible(chromedp.CSS("#approve-form")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#approve-form input[name=csrf]').remove()`))
	if status := click(t, ctx, "#approve"); status != 403 {
		t.Errorf("approve without the token: %d, want 403", status)
	}
	if title := text(t, ctx, "#error-title"); title != "请求被拒绝" {
		t.Errorf("403 page says %q", title)
	}
	forged := eval[int](t, ctx, `fetch('/console/bundles/`+third+`/approve', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'csrf=forged'}).then(r => r.status)`)
	if forged != 403 {
		t.Errorf("POST with a forged token: %d, want 403", forged)
	}
	if s, _ := e.status(third); s != "desk" {
		t.Fatalf("after the refused POSTs the bundle is %s", s)
	}

	// Sign out; sign in as the auditor.
	do(t, ctx, chromedp.Navigate(e.url+"/console/queue"), chromedp.WaitVisible(chromedp.CSS("#signout-form")))
	if status := click(t, ctx, "#signout-form button"); status != 200 {
		t.Fatalf("sign out: %d", status)
	}
	if n := e.count(`SELECT count(*) FROM staff_sessions WHERE username = 'wangli'`); n != 0 {
		t.Errorf("%d sessions left after sign-out", n)
	}
	signInBrowser(t, ctx, e, "sunyue")
	do(t, ctx, chromedp.Navigate(e.url+"/console/bundles/"+third), chromedp.WaitVisible(chromedp.CSS("#decide-readonly")))
	if n := eval[int](t, ctx, `document.querySelectorAll('#approve-form, #refuse-form, #approve, #refuse').length`); n != 0 {
		t.Errorf("the auditor sees %d decision controls", n)
	}
	// Even with a valid token, the server refuses the auditor's decision.
	status := eval[int](t, ctx, `fetch('/console/bundles/`+third+`/approve', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
		body: 'csrf=' + encodeURIComponent(document.querySelector('#signout-form input[name=csrf]').value)}).then(r => r.status)`)
	if status != 403 {
		t.Errorf("auditor's forged approval: %d, want 403", status)
	}
	if s, _ := e.status(third); s != "desk" {
		t.Fatalf("after the auditor's POST the bundle is %s", s)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE subject = $1 AND actor LIKE 'staff:%'`, third); n != 0 {
		t.Errorf("%d staff audit rows on the untouched bundle", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE actor = 'staff:wangli' AND subject IN ($1, $2)`, first, second); n != 2 {
		t.Errorf("%d audited decisions by wangli, want 2", n)
	}
}
