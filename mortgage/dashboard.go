package mortgage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Counts are the dashboard's figures for one period, by time of receipt.
type Counts struct {
	Received   int
	Registered int
	Rejected   int
	Desk       int
	Withdrawn  int
	SameDay    int // 当日办结: registered or refused the day received or by the same-day deadline
	Online     int
}

// SameDayShare is 当日办结率: bundles registered or refused on the day they
// were received (or by their same-day deadline) over every bundle received
// in the period, in percent. Bundles still at the desk, overdue ones, ones
// decided later and withdrawn ones stay in the denominator (DOMAIN.md
// "Promises, statistics, rating": 当日办结率 counts every application
// received, open ones included).
func (c Counts) SameDayShare() float64 { return share(c.SameDay, c.Received) }

// OnlineShare is 网办率: bundles received through the partner API over all
// bundles, in percent. Every bundle arrives through the API today.
func (c Counts) OnlineShare() float64 { return share(c.Online, c.Received) }

// OnlineTargetMet reports whether 网办率 meets the work plan's ≥ 50 %.
func (c Counts) OnlineTargetMet() bool { return c.Received == 0 || c.OnlineShare() >= OnlineTarget }

// OnlineTarget is the work plan's 网办率 target, in percent.
const OnlineTarget = 50

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// PartnerVolume is one partner's bundles in the period.
type PartnerVolume struct {
	ID         string
	Name       string
	Received   int
	Registered int
	Rejected   int
	Desk       int
}

// DayCount is one business day's bundles.
type DayCount struct {
	Day        time.Time
	Received   int
	Registered int
}

// OpenItem is a bundle waiting at the desk.
type OpenItem struct {
	ID          string
	PartnerName string
	Reference   string
	ReceivedAt  time.Time
	Deadline    sql.NullTime
}

// Dashboard is the console's statistics: today's figures and a period's.
type Dashboard struct {
	Today       Counts
	Period      Counts
	Partners    []PartnerVolume
	Refusals    []CodeCount // refusal reasons, most frequent first
	DeskReasons []CodeCount // why bundles went to the desk, most frequent first
	Days        []DayCount
	Oldest      []OpenItem // the longest waiting at the desk
}

// Dashboard counts the bundles received on the business day that begins
// at today and in the period [from, end), both midnights in loc.
func (s *Service) Dashboard(ctx context.Context, today, from, end time.Time, loc *time.Location) (*Dashboard, error) {
	zone := loc.String()
	var d Dashboard
	st := s.store()
	c, err := st.Counts(ctx, today, today.AddDate(0, 0, 1), zone)
	if err != nil {
		return nil, fmt.Errorf("dashboard counts: %w", err)
	}
	d.Today = Counts(c)
	if c, err = st.Counts(ctx, from, end, zone); err != nil {
		return nil, fmt.Errorf("dashboard counts: %w", err)
	}
	d.Period = Counts(c)
	partners, err := st.PartnerVolumes(ctx, from, end)
	if err != nil {
		return nil, fmt.Errorf("dashboard partners: %w", err)
	}
	for _, r := range partners {
		d.Partners = append(d.Partners, PartnerVolume(r))
	}
	refusals, err := st.RefusalCodes(ctx, from, end)
	if err != nil {
		return nil, fmt.Errorf("dashboard refusals: %w", err)
	}
	d.Refusals = codeCounts(refusals)
	desk, err := st.DeskCodes(ctx, from, end)
	if err != nil {
		return nil, fmt.Errorf("dashboard desk reasons: %w", err)
	}
	d.DeskReasons = codeCounts(desk)
	days, err := st.Days(ctx, from, end, zone)
	if err != nil {
		return nil, fmt.Errorf("dashboard days: %w", err)
	}
	for _, r := range days {
		d.Days = append(d.Days, DayCount(r))
	}
	oldest, err := st.OldestAtDesk(ctx)
	if err != nil {
		return nil, fmt.Errorf("dashboard oldest: %w", err)
	}
	for _, r := range oldest {
		d.Oldest = append(d.Oldest, OpenItem(r))
	}
	return &d, nil
}
