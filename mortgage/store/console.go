package store

import (
	"context"
	"database/sql"
	"time"
)

// The console's read models: the queue, the promises still owed and the
// dashboard's figures. The domain maps each row to its own type.

// QueueRow is one bundle in the console's queue.
type QueueRow struct {
	ID           string         `db:"id"`
	PartnerID    string         `db:"partner_id"`
	PartnerName  string         `db:"partner_name"`
	Reference    string         `db:"reference"`
	Type         string         `db:"type"`
	Status       string         `db:"status"`
	ReceivedAt   time.Time      `db:"received_at"`
	Deadline     sql.NullTime   `db:"deadline"`
	DecidedAt    sql.NullTime   `db:"decided_at"`
	AssignedTo   sql.NullString `db:"assigned_to"`
	AssignedName sql.NullString `db:"assigned_name"`
	DecidedBy    sql.NullString `db:"decided_by"`
	RawReasons   []byte         `db:"desk_reasons"`
}

// QueueFilter chooses the queue's bundles: in State (any state when Query,
// a bundle id or reference, is given), of Partner and with desk reason
// Reason unless "", assigned to Officer if Mine, at most Limit.
type QueueFilter struct {
	State, Partner, Reason, Query string
	Mine                          bool
	Officer                       string
	Limit                         int
}

// queueSQL lists bundles in one state. Decided ones are those that went
// through the desk; a search by id or reference finds any bundle.
const queueSQL = `SELECT b.id, b.partner_id, p.name AS partner_name, b.reference, b.type, b.status,
		b.received_at, b.deadline, b.decided_at, b.assigned_to, sa.display_name AS assigned_name,
		coalesce(sd.display_name, b.decided_by) AS decided_by, b.desk_reasons
	FROM bundles b
	JOIN partners p ON p.id = b.partner_id
	LEFT JOIN staff sa ON sa.username = b.assigned_to
	LEFT JOIN staff sd ON sd.username = b.decided_by
	WHERE CASE WHEN $4 <> '' THEN b.id = $4 OR b.reference = $4
		ELSE b.status = $1 AND (b.status = 'desk' OR b.deadline IS NOT NULL OR b.decided_by IS NOT NULL OR b.desk_reasons <> '[]') END
	  AND ($2 = '' OR b.partner_id = $2)
	  AND ($3 = '' OR b.desk_reasons @> jsonb_build_array(jsonb_build_object('code', $3::text)))
	  AND (NOT $5 OR b.assigned_to = $6)
	ORDER BY
		CASE WHEN b.status = 'desk' THEN b.deadline END ASC NULLS LAST,
		CASE WHEN b.status = 'desk' THEN b.received_at END ASC,
		coalesce(b.decided_at, b.received_at) DESC
	LIMIT $7`

const (
	queueCountsSQL = `SELECT count(*), count(*) FILTER (WHERE deadline <= $1), count(*) FILTER (WHERE assigned_to = $2)
		FROM bundles WHERE status = 'desk'`
	deskCodesInUseSQL = `SELECT r->>'code' AS code, min(r->>'message') AS message, count(*) AS n
		FROM bundles b, jsonb_array_elements(b.desk_reasons) r
		WHERE b.desk_reasons <> '[]' GROUP BY 1 ORDER BY 1`
	partnerNamesSQL = `SELECT id, name FROM partners ORDER BY name`
)

// Queue lists the bundles f chooses, at-desk ones by deadline.
func (s *Store) Queue(ctx context.Context, f QueueFilter) ([]QueueRow, error) {
	var rows []QueueRow
	err := s.DB.SelectContext(ctx, &rows, queueSQL, f.State, f.Partner, f.Reason, f.Query, f.Mine, f.Officer, f.Limit)
	return rows, err
}

// DeskCounts counts the bundles at the desk: all, due by now, and
// assigned to officer.
func (s *Store) DeskCounts(ctx context.Context, now time.Time, officer string) (all, due, mine int, err error) {
	err = s.DB.QueryRowContext(ctx, queueCountsSQL, now, officer).Scan(&all, &due, &mine)
	return all, due, mine, err
}

// CodeCount is a reason code, a message it was given with, and how often.
type CodeCount struct {
	Code    string `db:"code"`
	Message string `db:"message"`
	Count   int    `db:"n"`
}

// DeskCodesInUse lists every desk reason code on any bundle.
func (s *Store) DeskCodesInUse(ctx context.Context) ([]CodeCount, error) {
	var cs []CodeCount
	err := s.DB.SelectContext(ctx, &cs, deskCodesInUseSQL)
	return cs, err
}

// PartnerName is a partner's id and name.
type PartnerName struct {
	ID   string `db:"id"`
	Name string `db:"name"`
}

// PartnerNames lists the partners by name.
func (s *Store) PartnerNames(ctx context.Context) ([]PartnerName, error) {
	var ps []PartnerName
	err := s.DB.SelectContext(ctx, &ps, partnerNamesSQL)
	return ps, err
}

// PromiseRow is a promised document, as the console lists it.
type PromiseRow struct {
	BundleID     string         `db:"bundle_id"`
	PartnerName  string         `db:"partner_name"`
	Reference    string         `db:"reference"`
	Status       string         `db:"status"`
	Kind         string         `db:"kind"`
	DueOn        time.Time      `db:"due_on"`
	FulfilledAt  sql.NullTime   `db:"fulfilled_at"`
	AssignedName sql.NullString `db:"assigned_name"`
	Overdue      bool           `db:"overdue"`
}

const (
	// promisesSQL lists promises still owed (on bundles that are not
	// refused or withdrawn), overdue first, or the most recently kept ones.
	promisesSQL = `SELECT pr.bundle_id, p.name AS partner_name, b.reference, b.status, pr.kind, pr.due_on, pr.fulfilled_at,
		sa.display_name AS assigned_name, (pr.fulfilled_at IS NULL AND pr.due_on < $1) AS overdue
	FROM promises pr
	JOIN bundles b ON b.id = pr.bundle_id
	JOIN partners p ON p.id = b.partner_id
	LEFT JOIN staff sa ON sa.username = b.assigned_to
	WHERE CASE WHEN $2 = 'fulfilled' THEN pr.fulfilled_at IS NOT NULL
		ELSE pr.fulfilled_at IS NULL AND b.status IN ('desk', 'registered') END
	ORDER BY CASE WHEN $2 = 'fulfilled' THEN pr.fulfilled_at END DESC, pr.due_on, pr.bundle_id, pr.kind
	LIMIT 500`
	promiseCountsSQL = `SELECT count(*), count(*) FILTER (WHERE pr.due_on < $1)
		FROM promises pr JOIN bundles b ON b.id = pr.bundle_id
		WHERE pr.fulfilled_at IS NULL AND b.status IN ('desk', 'registered')`
)

// Promises lists the promises owed on today ("open"), or the most recently
// kept ("fulfilled").
func (s *Store) Promises(ctx context.Context, today time.Time, show string) ([]PromiseRow, error) {
	var rows []PromiseRow
	err := s.DB.SelectContext(ctx, &rows, promisesSQL, today, show)
	return rows, err
}

// PromiseCounts counts the promises owed, and those of them past due on
// today.
func (s *Store) PromiseCounts(ctx context.Context, today time.Time) (open, overdue int, err error) {
	err = s.DB.QueryRowContext(ctx, promiseCountsSQL, today).Scan(&open, &overdue)
	return open, overdue, err
}

// CountsRow is the dashboard's figures for one period.
type CountsRow struct {
	Received   int `db:"received"`
	Registered int `db:"registered"`
	Rejected   int `db:"rejected"`
	Desk       int `db:"desk"`
	Withdrawn  int `db:"withdrawn"`
	SameDay    int `db:"same_day"`
	Online     int `db:"online"`
}

// PartnerVolumeRow is one partner's bundles in a period.
type PartnerVolumeRow struct {
	ID         string `db:"id"`
	Name       string `db:"name"`
	Received   int    `db:"received"`
	Registered int    `db:"registered"`
	Rejected   int    `db:"rejected"`
	Desk       int    `db:"desk"`
}

// DayCountRow is one business day's bundles.
type DayCountRow struct {
	Day        time.Time `db:"day"`
	Received   int       `db:"received"`
	Registered int       `db:"registered"`
}

// OpenItemRow is a bundle waiting at the desk.
type OpenItemRow struct {
	ID          string       `db:"id"`
	PartnerName string       `db:"partner_name"`
	Reference   string       `db:"reference"`
	ReceivedAt  time.Time    `db:"received_at"`
	Deadline    sql.NullTime `db:"deadline"`
}

// The period's figures count bundles by when they were received, in
// business time; $1, $2 bound the period and $3 is the zone's name.
// same_day is 当日办结: registered or refused (不予登记) on the business day
// of receipt, or by the same-day deadline (a bundle received after the
// cut-off is due at the next service day's close). A withdrawal is not
// 办结 by the centre and is not counted; the rate's denominator is every
// bundle received (docs/DECISIONS.md).
const (
	countsSQL = `SELECT count(*) AS received,
			count(*) FILTER (WHERE status = 'registered') AS registered,
			count(*) FILTER (WHERE status = 'rejected') AS rejected,
			count(*) FILTER (WHERE status = 'desk') AS desk,
			count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
			count(*) FILTER (WHERE status IN ('registered', 'rejected')
				AND ((decided_at AT TIME ZONE $3)::date = (received_at AT TIME ZONE $3)::date
					OR decided_at <= deadline)) AS same_day,
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

// Counts counts the bundles received in [from, end), days in zone.
func (s *Store) Counts(ctx context.Context, from, end time.Time, zone string) (CountsRow, error) {
	var c CountsRow
	err := s.DB.GetContext(ctx, &c, countsSQL, from, end, zone)
	return c, err
}

// PartnerVolumes counts each partner's bundles received in [from, end),
// most first.
func (s *Store) PartnerVolumes(ctx context.Context, from, end time.Time) ([]PartnerVolumeRow, error) {
	var ps []PartnerVolumeRow
	err := s.DB.SelectContext(ctx, &ps, partnerVolumesSQL, from, end)
	return ps, err
}

// RefusalCodes counts the refusal reasons of bundles received in
// [from, end), most frequent first.
func (s *Store) RefusalCodes(ctx context.Context, from, end time.Time) ([]CodeCount, error) {
	var cs []CodeCount
	err := s.DB.SelectContext(ctx, &cs, refusalCodesSQL, from, end)
	return cs, err
}

// DeskCodes counts why bundles received in [from, end) went to the desk,
// most frequent first.
func (s *Store) DeskCodes(ctx context.Context, from, end time.Time) ([]CodeCount, error) {
	var cs []CodeCount
	err := s.DB.SelectContext(ctx, &cs, deskCodesSQL, from, end)
	return cs, err
}

// Days counts the bundles of each day, in zone, in [from, end).
func (s *Store) Days(ctx context.Context, from, end time.Time, zone string) ([]DayCountRow, error) {
	var ds []DayCountRow
	err := s.DB.SelectContext(ctx, &ds, daysSQL, from, end, zone)
	return ds, err
}

// OldestAtDesk lists the ten bundles waiting longest at the desk.
func (s *Store) OldestAtDesk(ctx context.Context) ([]OpenItemRow, error) {
	var os []OpenItemRow
	err := s.DB.SelectContext(ctx, &os, oldestSQL)
	return os, err
}
