package console_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mortgaged/mortgage"
	"mortgaged/partners"
)

// The screenshots in docs/screenshots come from the demo (go run ./cmd/screenshots);
// these are of the test's own data, for checking a change to the pages.
var screenshotDir = flag.String("screenshots", "", "write PNG screenshots of the queue, a bundle page and the dashboard of the test's data into this folder")

var (
	givenNames = []string{"王建国", "李秀英", "张丽华", "刘志强", "杨帆", "赵敏", "黄磊", "周婷", "吴昊", "徐明", "孙丽娟", "马骏",
		"朱红梅", "胡斌", "郭晓燕", "何伟", "高峰", "林雪", "罗刚", "梁晨", "宋佳", "郑凯", "谢芳", "韩冰", "唐军", "冯玉兰"}
	addresses = []string{"龙沙区卜奎大街", "建华区中华路", "铁锋区龙华路", "龙沙区新明大街", "建华区永安大街", "富拉尔基区和平大街", "昂昂溪区昂昂溪大街", "铁锋区站前大街"}
)

// seedWeek fills a week of the desk's life through the partner API: clean
// bundles registered at once, refusals, and bundles routed to staff, some
// received yesterday and overdue now. It returns the id of a bundle with a
// near-matching name on a unit that already carries a mortgage.
func seedWeek(e *env) string {
	e.t.Helper()
	today := e.clock.Now()
	at := func(daysAgo, hour, minute int) {
		e.clock.Set(time.Date(today.Year(), today.Month(), today.Day()-daysAgo, hour, minute, 0, 0, shanghai))
	}
	seq := 0
	clean := func(p partners.Partner, prefix string) {
		seq++
		owner := person(givenNames[seq%len(givenNames)], fmt.Sprintf("2302%02d19%02d0%d%02d%03d", seq%6+2, 70+seq%25, seq%9+1, seq%27+1, seq))
		n, title := e.unit(fmt.Sprintf("齐齐哈尔市%s %d 号 %d 单元 %d 室", addresses[seq%len(addresses)], 10+seq*7%90, seq%4+1, 100*(seq%17+1)+seq%4+1), owner)
		e.submit(p, e.application(p, fmt.Sprintf("%s-%s-%04d", prefix, e.clock.Now().Format("20060102"), seq), n, title, int64(200_000+seq*37_500%900_000)*100, owner))
	}
	for d := 6; d >= 0; d-- {
		for i, p := range []partners.Partner{bankA, bankA, bankB, fund, bankA, bankB, fund, bankA} {
			if (i+d)%3 == 0 && d != 0 {
				continue
			}
			at(d, 9+i, 5*i+d)
			clean(p, map[string]string{"lj-bank": "LJB", "hc-bank": "HC", "qqhr-gjj": "GJJ"}[p.ID])
		}
	}
	// Refusals: a mortgagor who is not the owner; a seized unit.
	at(3, 11, 20)
	owner := person("郑凯", "23020319780214003")
	n, title := e.unit("齐齐哈尔市铁锋区龙华路 210 号 2 单元 602 室", owner)
	e.submit(bankB, e.application(bankB, "HC-20261123-0042", n, title, 320_000_00, person("郑丽", "23020319800521004")))
	at(1, 15, 40)
	owner = person("谢芳", "23020419820917006")
	n, title = e.unit("齐齐哈尔市建华区文化大街 35 号 1 单元 301 室", owner)
	e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from) VALUES ($1, '齐齐哈尔市建华区人民法院', '(2026)黑0203执保 118 号', '2026-10-12')`, n)
	e.submit(bankA, e.application(bankA, "LJB-20261125-0388", n, title, 410_000_00, owner))

	// Yesterday afternoon: routed to staff, now overdue.
	at(1, 15, 10)
	e.reviewBundle(fund, "GJJ-2026-118790", person("韩冰", "23020519890303005"), "公积金与商业贷款组合，请核对两份借款合同金额之和")
	// Today.
	at(0, 9, 12)
	zhang := person("张伟", "23020219800112008")
	n, title = e.unit("齐齐哈尔市龙沙区卜奎大街 18 号 3 单元 502 室", zhang)
	e.submit(bankB, e.application(bankB, "HC-20240315-0009", n, title, 260_000_00, zhang)) // an older mortgage, rank 1
	at(0, 10, 6)
	written := zhang
	written.Name = "張偉"
	nearMatch, status := e.submit(bankA, e.application(bankA, "LJB-20261126-0217", n, title, 680_000_00, written))
	if status != "desk" {
		e.t.Fatalf("near match: %s", status)
	}
	at(0, 11, 30)
	big := person("宋佳", "23020219750830007")
	n, title = e.unit("齐齐哈尔市龙沙区明月岛路 8 号", big)
	e.submit(bankA, e.application(bankA, "LJB-20261126-0231", n, title, 12_800_000_00, big))
	at(0, 13, 45)
	e.reviewBundle(bankB, "HC-20261126-0077", person("陈静", "23020519870412004"), "借款人为本行员工，按内控要求申请人工审核")
	at(0, 14, 5)
	promiser := person("唐军", "23020619900106009")
	n, title = e.unit("齐齐哈尔市富拉尔基区和平大街 76 号 4 单元 201 室", promiser)
	app := e.application(bankA, "LJB-20261126-0240", n, title, 380_000_00, promiser)
	app.Materials = app.Materials[:3] // the identity document comes later
	app.Promises = []mortgage.Promise{{Kind: "identity_document", DueOn: mortgage.NewDate(2026, 11, 30)}}
	if _, status := e.submit(bankA, app); status != "desk" {
		e.t.Fatalf("promise: %s", status)
	}
	e.clock.Set(time.Date(today.Year(), today.Month(), today.Day(), 14, 35, 0, 0, shanghai))
	e.exec(`UPDATE bundles SET assigned_to = 'wangli' WHERE status = 'desk' AND partner_id = 'lj-bank'`)
	e.exec(`UPDATE bundles SET assigned_to = 'liuyang' WHERE status = 'desk' AND partner_id <> 'lj-bank'`)
	return nearMatch
}

// The console with a week of data, in a real browser; with -screenshots it
// writes {queue,bundle,dashboard}.png of that data into the folder.
func TestScreenshots(t *testing.T) {
	t.Parallel()
	e := setup(t)
	nearMatch := seedWeek(e)
	ctx := newBrowser(t)
	signInBrowser(t, ctx, e, "zhaolei")
	today := e.clock.Now().Format(time.DateOnly)
	weekAgo := e.clock.Now().AddDate(0, 0, -6).Format(time.DateOnly)
	for _, shot := range []struct {
		name, path, ready string
		keep              bool // written to docs/screenshots
	}{
		{"queue", "/console/queue", "#queue", true},
		{"bundle", "/console/bundles/" + nearMatch, "#decide", true},
		{"dashboard", "/console/dashboard?from=" + weekAgo + "&to=" + today, "#partners svg", true},
		{"promises", "/console/promises", "#promises", false},
		{"calendar", "/console/calendar", "#years", false},
		{"rules", "/console/rules", "#rule-amount_review", false},
	} {
		do(t, ctx, chromedp.Navigate(e.url+shot.path), chromedp.WaitVisible(chromedp.CSS(shot.ready)))
		if shot.name == "bundle" {
			// Show the scanned ID in the viewer: headless Chromium has no PDF viewer.
			eval[bool](t, ctx, `new Promise(done => {
				const f = document.querySelector('iframe.doc');
				f.onload = () => done(true);
				f.src = document.querySelector('#doc-4').href;
			})`)
		}
		if *screenshotDir == "" || !shot.keep {
			continue
		}
		// A window as tall as the page, so frames further down are painted
		// and the sticky decision panel stays at the top.
		height := eval[int64](t, ctx, `document.documentElement.scrollHeight`)
		do(t, ctx, chromedp.EmulateViewport(1440, height), chromedp.Sleep(500*time.Millisecond))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*screenshotDir, shot.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", filepath.Join(*screenshotDir, shot.name+".png"))
		do(t, ctx, chromedp.EmulateReset())
	}
}
