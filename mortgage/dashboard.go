package mortgage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Counts are the dashboard's figures for one period, by time of receipt.
type Counts struct {
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
func (c Counts) SameDayShare() float64 { return share(c.SameDay, c.Registered) }

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
	ID         string `db:"id"`
	Name       string `db:"name"`
	Received   int    `db:"received"`
	Registered int    `db:"registered"`
	Rejected   int    `db:"rejected"`
	Desk       int    `db:"desk"`
}

// DayCount is one business day's bundles.
type DayCount struct {
	Day        time.Time `db:"day"`
	Received   int       `db:"received"`
	Registered int       `db:"registered"`
}

// OpenItem is a bundle waiting at the desk.
type OpenItem struct {
	ID          string       `db:"id"`
	PartnerName string       `db:"partner_name"`
	Reference   string       `db:"reference"`
	ReceivedAt  time.Time    `db:"received_at"`
	Deadline    sql.NullTime `db:"deadline"`
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

// Dashboard counts the bundles received on the business day that begins
// at today and in the period [from, end), both midnights in loc.
func (s *Service) Dashboard(ctx context.Context, today, from, end time.Time, loc *time.Location) (*Dashboard, error) {
	zone := loc.String()
	var d Dashboard
	if err := s.DB.GetContext(ctx, &d.Today, countsSQL, today, today.AddDate(0, 0, 1), zone); err != nil {
		return nil, fmt.Errorf("dashboard counts: %w", err)
	}
	if err := s.DB.GetContext(ctx, &d.Period, countsSQL, from, end, zone); err != nil {
		return nil, fmt.Errorf("dashboard counts: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &d.Partners, partnerVolumesSQL, from, end); err != nil {
		return nil, fmt.Errorf("dashboard partners: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &d.Refusals, refusalCodesSQL, from, end); err != nil {
		return nil, fmt.Errorf("dashboard refusals: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &d.DeskReasons, deskCodesSQL, from, end); err != nil {
		return nil, fmt.Errorf("dashboard desk reasons: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &d.Days, daysSQL, from, end, zone); err != nil {
		return nil, fmt.Errorf("dashboard days: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &d.Oldest, oldestSQL); err != nil {
		return nil, fmt.Errorf("dashboard oldest: %w", err)
	}
	return &d, nil
}
