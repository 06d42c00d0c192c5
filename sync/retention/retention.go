// Package retention removes, after a configured period, the data that is
// the system's working material rather than the register: the files of
// finished batch uploads, events partners have received, and the records
// of delivery attempts (docs/retention.md).
//
// What it never removes, whatever its age: registrations (bundles, batch
// records), certificates, materials, the audit trail, the register itself,
// and events not yet delivered (pending or dead letters) with their
// delivery attempts. Every statement below names the one table it deletes
// from; none touches another.
package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Policy is how long each kind of data is kept. A zero period keeps it for ever.
type Policy struct {
	BatchChunks     time.Duration // a finished batch's uploaded file, from finished_at
	DeliveredEvents time.Duration // a delivered event (and its attempts), from delivered_at
	Deliveries      time.Duration // a delivered event's attempt records, from started_at
}

// Removed counts what one run removed.
type Removed struct {
	BatchChunks, Events, Deliveries int64
}

// chunk bounds the rows one statement removes, so that no run holds many
// locks or one long transaction; a run repeats statements until done.
const chunk = 5000

// The uploaded file of a batch that finished before $1; the batch row,
// its records and their bundles stay.
const batchChunksSQL = `DELETE FROM batch_chunks WHERE batch_id IN (
	SELECT b.id FROM batches b
	WHERE b.status = 'finished' AND b.finished_at < $1
	  AND EXISTS (SELECT 1 FROM batch_chunks c WHERE c.batch_id = b.id)
	LIMIT $2)`

// Events delivered before $1, with their attempt records (which refer to
// them). Pending events and dead letters are not 'delivered'.
const eventsSQL = `WITH doomed AS (
	SELECT id FROM events WHERE status = 'delivered' AND delivered_at < $1
	ORDER BY delivered_at LIMIT $2 FOR UPDATE SKIP LOCKED
), attempts AS (
	DELETE FROM deliveries WHERE event_id IN (SELECT id FROM doomed)
)
DELETE FROM events WHERE id IN (SELECT id FROM doomed)`

// Attempt records older than $1 of events that were delivered; a pending
// event's or a dead letter's attempts are its history and stay.
const deliveriesSQL = `DELETE FROM deliveries WHERE (event_id, attempt) IN (
	SELECT d.event_id, d.attempt FROM deliveries d JOIN events e ON e.id = d.event_id
	WHERE d.started_at < $1 AND e.status = 'delivered'
	LIMIT $2)`

// Run removes what policy no longer keeps as of now. Two nodes running it
// at once remove each row once; an error leaves what was removed removed.
func Run(ctx context.Context, d *sqlx.DB, p Policy, now time.Time) (Removed, error) {
	var r Removed
	for _, step := range []struct {
		name  string
		sql   string
		keep  time.Duration
		count *int64
	}{
		{"batch chunks", batchChunksSQL, p.BatchChunks, &r.BatchChunks},
		{"delivered events", eventsSQL, p.DeliveredEvents, &r.Events},
		{"deliveries", deliveriesSQL, p.Deliveries, &r.Deliveries},
	} {
		if step.keep <= 0 {
			continue
		}
		cutoff := now.Add(-step.keep)
		for {
			res, err := d.ExecContext(ctx, step.sql, cutoff, chunk)
			if err != nil {
				return r, fmt.Errorf("retention: remove %s: %w", step.name, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return r, err
			}
			*step.count += n
			if n == 0 {
				break
			}
		}
	}
	return r, nil
}
