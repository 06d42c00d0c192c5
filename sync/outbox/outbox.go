// Package outbox reads and moves the events that the registration writes in
// its own transaction (mortgage/outbox.go, PROMISES D1): the push claims due
// events, records each attempt and its outcome; partners pull and
// acknowledge them; supervisors list and redeliver dead letters.
//
// Claims are by status with FOR UPDATE SKIP LOCKED, never "after the last id
// seen" (D5): sequence numbers commit out of order. A claim is a lease: it
// names the node and ends at claimed_until, and a claim that is never
// recorded (the node died) comes due again when its lease ends (D6). Results
// are recorded only for the claim that made them, so two nodes that overlap
// (a lost lock, a paused process) cannot overwrite each other's attempts.
package outbox

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Event statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusDead      = "dead"
)

// Claimed is an event claimed for one delivery attempt.
type Claimed struct {
	ID         string    `db:"id"`
	Seq        int64     `db:"seq"`
	Type       string    `db:"type"`
	Subject    string    `db:"subject"`
	OccurredAt time.Time `db:"occurred_at"`
	Payload    []byte    `db:"payload"`
	MediaType  string    `db:"media_type"` // the payload's, as its encoder wrote it
	Attempt    int       `db:"attempts"`   // this attempt's number, from 1
}

const claimSQL = `WITH due AS (
	SELECT id FROM events
	WHERE partner_id = $1 AND status = 'pending' AND next_attempt_at <= now()
	  AND (claimed_until IS NULL OR claimed_until < now())
	ORDER BY next_attempt_at
	LIMIT $2
	FOR UPDATE SKIP LOCKED
)
UPDATE events e
SET claimed_by = $3,
    claimed_until = now() + $4 * interval '1 millisecond',
    next_attempt_at = now() + $4 * interval '1 millisecond',
    attempts = e.attempts + 1
FROM due WHERE e.id = due.id
RETURNING e.id, e.seq, e.type, e.subject, e.occurred_at, e.payload, e.media_type, e.attempts`

// Claim takes up to limit of the partner's due events for node, for lease,
// and counts the attempt. It commits at once: the claim outlives a crash
// and is rescued when the lease ends. The events come back in seq order.
//
// A claim also moves next_attempt_at to the lease's end, so claimed rows
// leave the due range of the index and an unrecorded claim comes due again
// exactly when it may be rescued.
func Claim(ctx context.Context, db sqlx.QueryerContext, partnerID, node string, lease time.Duration, limit int) ([]Claimed, error) {
	var evs []Claimed
	if err := sqlx.SelectContext(ctx, db, &evs, claimSQL, partnerID, limit, node, lease.Milliseconds()); err != nil {
		return nil, fmt.Errorf("claim events for %s: %w", partnerID, err)
	}
	slices.SortFunc(evs, func(a, b Claimed) int { return cmp.Compare(a.Seq, b.Seq) })
	return evs, nil
}

// Outcome is what an attempt leads to.
type Outcome string

// Outcomes.
const (
	Delivered Outcome = "delivered" // the partner has it
	Retry     Outcome = "retry"     // try again after RetryIn
	Dead      Outcome = "dead"      // the retry window is over: dead letter
)

// Result is one attempt as the push saw it.
type Result struct {
	EventID    string
	Attempt    int
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int    // 0: no answer
	Error      string // empty on success
	Outcome    Outcome
	RetryIn    time.Duration // with Retry
}

const recordSQL = `WITH r AS (
	SELECT * FROM unnest($2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::text[], $9::bigint[])
		AS r(id, attempt, started_at, duration_ms, status_code, error, outcome, retry_ms)
), logged AS (
	INSERT INTO deliveries (event_id, attempt, node, started_at, status_code, error, duration_ms)
	SELECT id, attempt, $1, started_at, nullif(status_code, 0), nullif(error, ''), duration_ms FROM r
	ON CONFLICT (event_id, attempt) DO NOTHING
)
UPDATE events e SET
	status = CASE r.outcome WHEN 'delivered' THEN 'delivered' WHEN 'dead' THEN 'dead' ELSE 'pending' END,
	delivered_at = CASE WHEN r.outcome = 'delivered' THEN now() ELSE e.delivered_at END,
	next_attempt_at = CASE WHEN r.outcome = 'retry' THEN now() + r.retry_ms * interval '1 millisecond' ELSE e.next_attempt_at END,
	last_error = CASE WHEN r.outcome = 'delivered' THEN e.last_error ELSE r.error END,
	claimed_by = NULL,
	claimed_until = NULL
FROM r
WHERE e.id = r.id AND e.status = 'pending'
  AND (r.outcome = 'delivered' OR (e.claimed_by = $1 AND e.attempts = r.attempt))`

// Record logs every attempt in deliveries and moves each event on, in one
// statement. A success marks the event delivered whoever holds it now (the
// partner has it); a failure counts only while node still holds the claim
// that made the attempt, so a late answer cannot undo a newer attempt.
func Record(ctx context.Context, db sqlx.ExecerContext, node string, rs []Result) error {
	if len(rs) == 0 {
		return nil
	}
	n := len(rs)
	ids, attempts, started := make([]string, n), make([]int64, n), make([]string, n)
	durations, codes := make([]int64, n), make([]int64, n)
	errs, outcomes, retries := make([]string, n), make([]string, n), make([]int64, n)
	for i, r := range rs {
		ids[i], attempts[i], started[i] = r.EventID, int64(r.Attempt), r.StartedAt.UTC().Format(time.RFC3339Nano)
		durations[i], codes[i] = r.Duration.Milliseconds(), int64(r.StatusCode)
		errs[i], outcomes[i], retries[i] = truncate(r.Error, 1000), string(r.Outcome), r.RetryIn.Milliseconds()
	}
	_, err := db.ExecContext(ctx, recordSQL, node, pq.Array(ids), pq.Array(attempts), pq.Array(started),
		pq.Array(durations), pq.Array(codes), pq.Array(errs), pq.Array(outcomes), pq.Array(retries))
	if err != nil {
		return fmt.Errorf("record %d deliveries: %w", n, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") // drops a rune cut in half
}

// Cursor is a position in a partner's event stream. Events are ordered by
// the transaction that wrote them (xid), then by seq: a page only includes
// events of transactions older than every running one, so no event can
// later appear before a cursor already handed out. Ordering by seq alone
// would not do: a transaction that took its xid first may take its seq last.
type Cursor struct {
	XID uint64
	Seq int64
}

// String is the cursor's opaque form for partners.
func (c Cursor) String() string {
	if c == (Cursor{}) {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("1." + strconv.FormatUint(c.XID, 10) + "." + strconv.FormatInt(c.Seq, 10)))
}

// ErrCursor means a cursor was not one we handed out.
var ErrCursor = errors.New("invalid cursor")

// ParseCursor reads a cursor from String; "" is the start of the stream.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrCursor
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 || parts[0] != "1" {
		return Cursor{}, ErrCursor
	}
	xid, err1 := strconv.ParseUint(parts[1], 10, 64)
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || seq < 0 {
		return Cursor{}, ErrCursor
	}
	return Cursor{XID: xid, Seq: seq}, nil
}

// Pulled is an event as a partner pulls it: the exact payload pushed.
type Pulled struct {
	ID        string `db:"id"`
	Seq       int64  `db:"seq"`
	XID       string `db:"xid_text"`
	Payload   []byte `db:"payload"`
	MediaType string `db:"media_type"`
}

// Page is one answer of the pull API.
type Page struct {
	Events []Pulled
	Next   Cursor // where to continue; the request's cursor when the page is empty
	More   bool   // more events are ready now
}

// settledSQL keeps out events whose transaction, or any older one, may still
// be running: once an xid is below the snapshot's xmin, every transaction
// with a smaller xid has committed or rolled back.
const settledSQL = `xid < pg_snapshot_xmin(pg_current_snapshot())`

// The xid is read as text (lib/pq has no xid8), under another name: ORDER
// BY xid must sort the xid8 column, not its text.
const pullSQL = `SELECT id, seq, xid::text AS xid_text, payload, media_type FROM events
	WHERE partner_id = $1 AND (xid, seq) > ($2::text::xid8, $3::bigint) AND ` + settledSQL + `
	ORDER BY xid, seq
	LIMIT $4`

// Pull returns up to limit of the partner's events after the cursor, in
// order, whatever their delivery status (pending, delivered or dead).
func Pull(ctx context.Context, db sqlx.QueryerContext, partnerID string, after Cursor, limit int) (Page, error) {
	var evs []Pulled
	if err := sqlx.SelectContext(ctx, db, &evs, pullSQL, partnerID, strconv.FormatUint(after.XID, 10), after.Seq, limit+1); err != nil {
		return Page{}, fmt.Errorf("pull events for %s: %w", partnerID, err)
	}
	p := Page{Next: after}
	if len(evs) > limit {
		evs, p.More = evs[:limit], true
	}
	p.Events = evs
	if len(evs) > 0 {
		last := evs[len(evs)-1]
		xid, err := strconv.ParseUint(last.XID, 10, 64)
		if err != nil {
			return Page{}, fmt.Errorf("pull events: xid %q: %w", last.XID, err)
		}
		p.Next = Cursor{XID: xid, Seq: last.Seq}
	}
	return p, nil
}

const ackSQL = `UPDATE events SET
	status = 'delivered',
	acked_at = coalesce(acked_at, now()),
	delivered_at = coalesce(delivered_at, now()),
	claimed_by = NULL, claimed_until = NULL
	WHERE partner_id = $1 AND id = ANY($2)
	RETURNING id`

// Ack marks the partner's events with these ids as received, so the push
// stops, and returns the ids that are the partner's. Another partner's ids
// are indistinguishable from unknown ones.
func Ack(ctx context.Context, db sqlx.QueryerContext, partnerID string, ids []string) ([]string, error) {
	var acked []string
	if err := sqlx.SelectContext(ctx, db, &acked, ackSQL, partnerID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("acknowledge events for %s: %w", partnerID, err)
	}
	return acked, nil
}

const ackUpToSQL = `UPDATE events SET
	status = 'delivered',
	acked_at = now(),
	delivered_at = coalesce(delivered_at, now()),
	claimed_by = NULL, claimed_until = NULL
	WHERE partner_id = $1 AND (xid, seq) <= ($2::text::xid8, $3::bigint) AND acked_at IS NULL AND ` + settledSQL

// AckUpTo marks every event of the partner up to and including the cursor
// as received, and returns how many were not acknowledged before.
func AckUpTo(ctx context.Context, db sqlx.ExecerContext, partnerID string, upTo Cursor) (int, error) {
	res, err := db.ExecContext(ctx, ackUpToSQL, partnerID, strconv.FormatUint(upTo.XID, 10), upTo.Seq)
	if err != nil {
		return 0, fmt.Errorf("acknowledge events for %s: %w", partnerID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeadLetter is an event the push gave up on.
type DeadLetter struct {
	ID            string       `db:"id"`
	PartnerID     string       `db:"partner_id"`
	Type          string       `db:"type"`
	Subject       string       `db:"subject"`
	OccurredAt    time.Time    `db:"occurred_at"`
	Attempts      int          `db:"attempts"`
	LastError     string       `db:"last_error"`
	LastAttemptAt sql.NullTime `db:"last_attempt_at"`
}

const deadSQL = `SELECT e.id, e.partner_id, e.type, e.subject, e.occurred_at, e.attempts, coalesce(e.last_error, '') AS last_error,
	(SELECT max(d.started_at) FROM deliveries d WHERE d.event_id = e.id) AS last_attempt_at
	FROM events e
	WHERE e.status = 'dead' AND ($1 = '' OR e.partner_id = $1)
	ORDER BY e.partner_id, e.seq
	LIMIT $2`

// DeadLetters lists dead letters, of one partner or ("") of all, oldest first.
func DeadLetters(ctx context.Context, db sqlx.QueryerContext, partnerID string, limit int) ([]DeadLetter, error) {
	var ds []DeadLetter
	if err := sqlx.SelectContext(ctx, db, &ds, deadSQL, partnerID, limit); err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return ds, nil
}

// Redelivery errors.
var (
	ErrNotFound = errors.New("no such event")
	ErrNotDead  = errors.New("event is not a dead letter")
)

// Redeliver puts a dead letter back in the queue: the partner's next push
// run makes one more attempt, and a failure makes it a dead letter again
// (the retry window is not restarted; a supervisor redelivers when the
// partner says its endpoint works).
func Redeliver(ctx context.Context, db sqlx.QueryerContext, id string) error {
	var status string
	err := sqlx.GetContext(ctx, db, &status, `WITH r AS (
		UPDATE events SET status = 'pending', next_attempt_at = now(), claimed_by = NULL, claimed_until = NULL
		WHERE id = $1 AND status = 'dead' RETURNING status)
		SELECT coalesce((SELECT 'redelivered' FROM r), (SELECT status FROM events WHERE id = $1), '')`, id)
	switch {
	case err != nil:
		return fmt.Errorf("redeliver %s: %w", id, err)
	case status == "":
		return fmt.Errorf("redeliver %s: %w", id, ErrNotFound)
	case status != "redelivered":
		return fmt.Errorf("redeliver %s: %w (it is %s)", id, ErrNotDead, status)
	}
	return nil
}
