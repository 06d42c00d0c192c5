package mortgage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"mortgaged/mortgage/store"
)

// The console's read models (queue, bundle page, promises, dashboard,
// settings) live in the domain beside the tables they read: the console
// only renders them.

// QueueFilter chooses the bundles of the console's queue.
type QueueFilter struct {
	State   string // desk, registered, rejected or withdrawn
	Partner string // a partner id, or "" for all
	Reason  string // a desk reason code, or "" for all
	Query   string // a bundle id or reference: finds the bundle in any state
	Mine    bool   // only those assigned to Officer
	Officer string // the member of staff looking
	Limit   int
}

// QueueItem is one bundle in the queue.
type QueueItem struct {
	ID           string
	PartnerID    string
	PartnerName  string
	Reference    string
	Type         string
	Status       string
	ReceivedAt   time.Time
	Deadline     sql.NullTime
	DecidedAt    sql.NullTime
	AssignedTo   sql.NullString
	AssignedName sql.NullString
	DecidedBy    sql.NullString // the officer's name when known, else the username
	RawReasons   []byte
	Reasons      Issues // why it went to the desk
}

// CodeCount is a reason code with a message it was given with and, where
// counted, how often it occurs.
type CodeCount struct {
	Code    string
	Message string
	Count   int
}

// Queue is one page of the console's queue with the desk's counts.
type Queue struct {
	Items                 []QueueItem
	AtDesk, Overdue, Mine int         // bundles at the desk: all, past their deadline, assigned to the officer
	Reasons               []CodeCount // every desk reason code in use, for the filter
}

// Queue lists the bundles the filter chooses, at-desk ones by deadline,
// with the desk's counts at now.
func (s *Service) Queue(ctx context.Context, f QueueFilter, now time.Time) (*Queue, error) {
	var q Queue
	st := s.store()
	rows, err := st.Queue(ctx, store.QueueFilter(f))
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	for _, r := range rows {
		is, err := parseIssues(r.RawReasons)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: %w", r.ID, err)
		}
		q.Items = append(q.Items, QueueItem{ID: r.ID, PartnerID: r.PartnerID, PartnerName: r.PartnerName, Reference: r.Reference,
			Type: r.Type, Status: r.Status, ReceivedAt: r.ReceivedAt, Deadline: r.Deadline, DecidedAt: r.DecidedAt,
			AssignedTo: r.AssignedTo, AssignedName: r.AssignedName, DecidedBy: r.DecidedBy, RawReasons: r.RawReasons, Reasons: is})
	}
	if q.AtDesk, q.Overdue, q.Mine, err = st.DeskCounts(ctx, now, f.Officer); err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	codes, err := st.DeskCodesInUse(ctx)
	if err != nil {
		return nil, fmt.Errorf("reason codes: %w", err)
	}
	q.Reasons = codeCounts(codes)
	return &q, nil
}

// PartnerName is a partner as the console's filters list it.
type PartnerName struct {
	ID   string
	Name string
}

// PartnerNames lists the partners by name.
func (s *Service) PartnerNames(ctx context.Context) ([]PartnerName, error) {
	rows, err := s.store().PartnerNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("partners: %w", err)
	}
	var ps []PartnerName
	for _, r := range rows {
		ps = append(ps, PartnerName(r))
	}
	return ps, nil
}

// codeCounts are the reason codes counted, as the domain names them.
func codeCounts(rows []store.CodeCount) []CodeCount {
	var cs []CodeCount
	for _, r := range rows {
		cs = append(cs, CodeCount(r))
	}
	return cs
}

// parseIssues reads reasons stored with a bundle ({field, code, message}).
func parseIssues(b []byte) (Issues, error) {
	var is Issues
	if len(b) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(b, &is); err != nil {
		return nil, fmt.Errorf("reasons: %w", err)
	}
	return is, nil
}
