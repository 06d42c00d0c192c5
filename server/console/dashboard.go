package console

import (
	"fmt"
	"net/http"
	"time"

	"mortgaged/mortgage"
)

type dashboardData struct {
	From, To     string // YYYY-MM-DD, inclusive
	Today        mortgage.Counts
	Period       mortgage.Counts
	Partners     []mortgage.PartnerVolume
	Refusals     []mortgage.CodeCount
	DeskReasons  []mortgage.CodeCount
	Days         []mortgage.DayCount
	Oldest       []mortgage.OpenItem
	PartnerChart chart
	RefusalChart chart
	DeskChart    chart
	DayChart     chart
	OnlineTarget int
	Presets      []option
}

// maxPeriodDays bounds a dashboard period: a year of daily bars is the most
// a page can show.
const maxPeriodDays = 366

// dashboard shows today's figures and a chosen period's.
func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, s *session) error {
	loc := c.cfg.Location
	now := c.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	from, to := today, today
	q := r.URL.Query()
	if v := q.Get("from"); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return badRequest("开始日期格式应为 YYYY-MM-DD。")
		}
		from = t
	}
	if v := q.Get("to"); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return badRequest("结束日期格式应为 YYYY-MM-DD。")
		}
		to = t
	}
	if to.Before(from) {
		from, to = to, from
	}
	if to.Sub(from) > maxPeriodDays*24*time.Hour {
		return badRequest(fmt.Sprintf("统计期间不能超过 %d 天。", maxPeriodDays))
	}
	end := to.AddDate(0, 0, 1)
	d := dashboardData{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), OnlineTarget: mortgage.OnlineTarget}
	d.Presets = []option{
		{"from=" + today.Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), "今日"},
		{"from=" + today.AddDate(0, 0, -6).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), "近 7 日"},
		{"from=" + time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, loc).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), "本月"},
		{"from=" + today.AddDate(0, 0, -29).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), "近 30 日"},
	}
	figures, err := c.register.Dashboard(r.Context(), today, from, end, loc)
	if err != nil {
		return err
	}
	d.Today, d.Period, d.Partners, d.Refusals = figures.Today, figures.Period, figures.Partners, figures.Refusals
	d.DeskReasons, d.Days, d.Oldest = figures.DeskReasons, figures.Days, figures.Oldest

	var bars []bar
	for _, p := range d.Partners {
		bars = append(bars, bar{Label: p.Name, Value: p.Received, Parts: []int{p.Registered, p.Rejected, p.Desk}})
	}
	d.PartnerChart = hbarChart(bars, []string{"已登簿", "不予登记", "待审核"})
	bars = nil
	for _, rc := range d.Refusals {
		bars = append(bars, bar{Label: reasonLabel(rc.Code, rc.Message), Value: rc.Count})
	}
	d.RefusalChart = hbarChart(bars, nil)
	bars = nil
	for _, rc := range d.DeskReasons {
		bars = append(bars, bar{Label: reasonLabel(rc.Code, rc.Message), Value: rc.Count})
	}
	d.DeskChart = hbarChart(bars, nil)
	if len(d.Days) > 1 {
		d.DayChart = dayChart(d.Days, from, to)
	}
	c.render(w, r, http.StatusOK, "dashboard.html", view{Title: "统计", Nav: "dashboard", S: s, Data: d})
	return nil
}
