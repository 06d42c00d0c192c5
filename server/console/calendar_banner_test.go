package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCalendarBanner: from 1 December, on the service's clock, supervisors
// see on every page that next year's holiday notice is missing, until they
// load it; reviewers, who cannot load it, do not.
func TestCalendarBanner(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.clock.Set(time.Date(2026, 11, 30, 23, 50, 0, 0, shanghai))
	sup, rev := e.signIn("zhaolei"), e.signIn("wangli")
	const banner = `id="calendar-banner"`
	if p := sup.get("/console/queue"); p.status != http.StatusOK || strings.Contains(p.body, banner) {
		t.Errorf("banner on 30 November: %.500s", p.body)
	}
	e.clock.Add(15 * time.Minute) // 1 December, 00:05 in Shanghai
	if p := sup.get("/console/queue"); !strings.Contains(p.body, banner) || !strings.Contains(p.body, "尚未载入 2027 年节假日安排") {
		t.Errorf("no banner for the supervisor on 1 December: %.500s", p.body)
	}
	if p := rev.get("/console/queue"); p.status != http.StatusOK || strings.Contains(p.body, banner) {
		t.Error("banner for a reviewer")
	}
	year := `{"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知", "holidays": [{"from": "2027-01-01", "to": "2027-01-01", "name": "元旦"}, {"from": "2027-02-06", "to": "2027-02-06", "name": "春节"}, {"from": "2027-04-05", "to": "2027-04-05", "name": "清明节"}, {"from": "2027-05-01", "to": "2027-05-01", "name": "劳动节"}, {"from": "2027-06-09", "to": "2027-06-09", "name": "端午节"}, {"from": "2027-09-15", "to": "2027-09-15", "name": "中秋节"}, {"from": "2027-10-01", "to": "2027-10-01", "name": "国庆节"}], "workdays": []}`
	if msg := sup.flashAfter(sup.post("/console/calendar", url.Values{"csrf": {sup.token()}, "notice": {year}})); !strings.Contains(msg, "已载入 2027 年") {
		t.Fatalf("load 2027: %q", msg)
	}
	if p := sup.get("/console/queue"); strings.Contains(p.body, banner) {
		t.Error("banner after loading 2027")
	}
}
