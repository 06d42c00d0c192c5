package console

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"
)

// counts are the figures for one period, by time of receipt.
type counts struct {
	Received   int `db:"received"`
	Registered int `db:"registered"`
	Rejected   int `db:"rejected"`
	Desk       int `db:"desk"`
	Withdrawn  int `db:"withdrawn"`
	SameDay    int `db:"same_day"`
	Online     int `db:"online"`
}

// SameDayShare is the share of registered bundles registered on the day
// they were received (抵押登记当日办结), in percent.
func (c counts) SameDayShare() float64 { return share(c.SameDay, c.Registered) }

// OnlineShare is 网办率: bundles received through the partner API over all
// bundles, in percent. Every bundle arrives through the API today.
func (c counts) OnlineShare() float64 { return share(c.Online, c.Received) }

// OnlineTargetMet reports whether 网办率 meets the work plan's ≥ 50 %.
func (c counts) OnlineTargetMet() bool { return c.Received == 0 || c.OnlineShare() >= OnlineTarget }

// OnlineTarget is the work plan's 网办率 target, in percent.
const OnlineTarget = 50

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

type partnerVolume struct {
	ID         string `db:"id"`
	Name       string `db:"name"`
	Received   int    `db:"received"`
	Registered int    `db:"registered"`
	Rejected   int    `db:"rejected"`
	Desk       int    `db:"desk"`
}

type codeCount struct {
	Code    string `db:"code"`
	Message string `db:"message"`
	Count   int    `db:"n"`
}

type dayCount struct {
	Day        time.Time `db:"day"`
	Received   int       `db:"received"`
	Registered int       `db:"registered"`
}

type openItem struct {
	ID          string       `db:"id"`
	PartnerName string       `db:"partner_name"`
	Reference   string       `db:"reference"`
	ReceivedAt  time.Time    `db:"received_at"`
	Deadline    sql.NullTime `db:"deadline"`
}

type dashboardData struct {
	From, To     string // YYYY-MM-DD, inclusive
	Today        counts
	Period       counts
	Partners     []partnerVolume
	Refusals     []codeCount
	DeskReasons  []codeCount
	Days         []dayCount
	Oldest       []openItem
	PartnerChart chart
	RefusalChart chart
	DeskChart    chart
	DayChart     chart
	OnlineTarget int
	Presets      []option
}

// The period's figures count bundles by when they were received, in
// business time; $1, $2 bound the period and $3 is the zone's name.
const (
	countsSQL = `SELECT count(*) AS received,
			count(*) FILTER (WHERE status = 'registered') AS registered,
			count(*) FILTER (WHERE status = 'rejected') AS rejected,
			count(*) FILTER (WHERE status = 'desk') AS desk,
			count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
			count(*) FILTER (WHERE status = 'registered'
				AND (decided_at AT TIME ZONE $3)::date = (received_at AT TIME ZONE $3)::date) AS same_day,
			count(*) AS online
		FROM bundles WHERE received_at >= $1 AND received_at < $2`
	partnerVolumesSQL = `SELECT p.id, p.name, count(*) AS received,
			count(*) FILTER (WHERE b.status = 'registered') AS registered,
			count(*) FILTER (WHERE b.status = 'rejected') AS rejected,
			count(*) FILTER (WHERE b.status = 'desk') AS desk
		FROM bundles b JOIN partners p ON p.id = b.partner_id
		WHERE b.received_at >= $1 AND b.received_at < $2
		GROUP BY p.id, p.name ORDER BY received DESC, p.name`
	refusalCodesSQL = `SELECT r->>'code' AS code, min(r->>'message') AS message, count(*) AS n
		FROM bundles b, jsonb_array_elements(b.reasons) r
		WHERE b.status = 'rejected' AND b.received_at >= $1 AND b.received_at < $2
		GROUP BY 1 ORDER BY n DESC, code LIMIT 20`
	deskCodesSQL = `SELECT r->>'code' AS code, min(r->>'message') AS message, count(*) AS n
		FROM bundles b, jsonb_array_elements(b.desk_reasons) r
		WHERE b.received_at >= $1 AND b.received_at < $2
		GROUP BY 1 ORDER BY n DESC, code LIMIT 20`
	daysSQL = `SELECT (received_at AT TIME ZONE $3)::date AS day, count(*) AS received,
			count(*) FILTER (WHERE status = 'registered') AS registered
		FROM bundles WHERE received_at >= $1 AND received_at < $2
		GROUP BY 1 ORDER BY 1`
	oldestSQL = `SELECT b.id, p.name AS partner_name, b.reference, b.received_at, b.deadline
		FROM bundles b JOIN partners p ON p.id = b.partner_id
		WHERE b.status = 'desk' ORDER BY b.received_at, b.id LIMIT 10`
)

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
	zone := loc.String()
	ctx := r.Context()
	d := dashboardData{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), OnlineTarget: OnlineTarget}
	d.Presets = []option{
		{"from=" + today.Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), "今日"},
		{"from=" + today.AddDate(0, 0, -6).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), "近 7 日"},
		{"from=" + time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, loc).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), "本月"},
		{"from=" + today.AddDate(0, 0, -29).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly), "近 30 日"},
	}
	if err := c.getCounts(ctx, &d.Today, today, today.AddDate(0, 0, 1), zone); err != nil {
		return err
	}
	if err := c.getCounts(ctx, &d.Period, from, end, zone); err != nil {
		return err
	}
	if err := c.db.SelectContext(ctx, &d.Partners, partnerVolumesSQL, from, end); err != nil {
		return fmt.Errorf("dashboard partners: %w", err)
	}
	if err := c.db.SelectContext(ctx, &d.Refusals, refusalCodesSQL, from, end); err != nil {
		return fmt.Errorf("dashboard refusals: %w", err)
	}
	if err := c.db.SelectContext(ctx, &d.DeskReasons, deskCodesSQL, from, end); err != nil {
		return fmt.Errorf("dashboard desk reasons: %w", err)
	}
	if err := c.db.SelectContext(ctx, &d.Days, daysSQL, from, end, zone); err != nil {
		return fmt.Errorf("dashboard days: %w", err)
	}
	if err := c.db.SelectContext(ctx, &d.Oldest, oldestSQL); err != nil {
		return fmt.Errorf("dashboard oldest: %w", err)
	}

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

func (c *Console) getCounts(ctx context.Context, into *counts, from, to time.Time, zone string) error {
	if err := c.db.GetContext(ctx, into, countsSQL, from, to, zone); err != nil {
		return fmt.Errorf("dashboard counts: %w", err)
	}
	return nil
}
