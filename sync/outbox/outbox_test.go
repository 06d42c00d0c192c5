package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/pgtest"
	"mortgaged/sync/outbox"
)

// These tests do not run in parallel: pulls and claims hold back events
// while any older transaction in the cluster may still be running, so one
// test's transactions would hold back another's events.
func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }

func addPartner(t *testing.T, d *sqlx.DB, id string) {
	t.Helper()
	if _, err := d.Exec(`INSERT INTO partners (id, kind, name, credit_code) VALUES ($1, 'bank', $1, '91230200MA1BANK01X')`, id); err != nil {
		t.Fatal(err)
	}
}

const insertEvent = `INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, next_attempt_at)
	VALUES ($1, $2, 'bundle.registered', 'b1', now(), $3, now())`

// insertEvents writes n events for partner, each in its own transaction, and
// returns their ids in order.
func insertEvents(t *testing.T, d sqlx.ExecerContext, partner string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("evt_%s_%04d", partner, i)
		if _, err := d.ExecContext(t.Context(), insertEvent, ids[i], partner, payload(ids[i])); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func payload(id string) []byte { return []byte(`{"id":"` + id + `"}`) }

// pullAll pulls the partner's events from c until no more are ready.
func pullAll(t *testing.T, d *sqlx.DB, partner string, c outbox.Cursor, limit int) ([]string, outbox.Cursor) {
	t.Helper()
	var ids []string
	for {
		p, err := outbox.Pull(t.Context(), d, partner, c, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			ids = append(ids, e.ID)
		}
		c = p.Next
		if !p.More {
			return ids, c
		}
	}
}

func TestPullPagesInOrder(t *testing.T) {
	d := pgtest.Open(t)
	addPartner(t, d, "lj-bank")
	want := insertEvents(t, d, "lj-bank", 25)
	p, err := outbox.Pull(t.Context(), d, "lj-bank", outbox.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 10 || !p.More || string(p.Events[0].Payload) != string(payload(want[0])) {
		t.Fatalf("first page: %d events, more %v", len(p.Events), p.More)
	}
	back, err := outbox.ParseCursor(p.Next.String())
	if err != nil || back != p.Next {
		t.Fatalf("cursor %q parses to %v, %v", p.Next.String(), back, err)
	}
	got, end := pullAll(t, d, "lj-bank", outbox.Cursor{}, 10)
	if !slices.Equal(got, want) {
		t.Fatalf("pulled %v, want %v", got, want)
	}
	// Nothing new: the cursor stays.
	p, err = outbox.Pull(t.Context(), d, "lj-bank", end, 10)
	if err != nil || len(p.Events) != 0 || p.More || p.Next != end {
		t.Fatalf("pull at the end: %+v, %v", p, err)
	}
	for _, bad := range []string{"x", "MS4x", "Mi4xLjI", "MS4tMS4y"} {
		if _, err := outbox.ParseCursor(bad); !errors.Is(err, outbox.ErrCursor) {
			t.Errorf("ParseCursor(%q) = %v, want ErrCursor", bad, err)
		}
	}
}

// TestPullNeverSkipsAnEventThatCommitsLate proves the pull API's order
// against out-of-order commits: two transactions write events, the one with
// the later seq commits first, and a partner pulling in between must still
// receive both. Both orders of taking transaction ids are tried: ordering by
// seq alone would skip the event when the later-committing transaction took
// its transaction id last.
func TestPullNeverSkipsAnEventThatCommitsLate(t *testing.T) {
	for _, firstXIDLate := range []bool{false, true} {
		t.Run(map[bool]string{false: "SlowTransactionStartedFirst", true: "FastTransactionStartedFirst"}[firstXIDLate], func(t *testing.T) {
			d := pgtest.Open(t)
			addPartner(t, d, "lj-bank")
			before := insertEvents(t, d, "lj-bank", 1)
			ctx := t.Context()
			slow, err := d.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer slow.Rollback()
			fast, err := d.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer fast.Rollback()
			// Transaction ids are assigned at the first write.
			if firstXIDLate {
				mustExec(t, fast, `SELECT pg_current_xact_id()`)
			}
			mustExec(t, slow, `SELECT pg_current_xact_id()`)
			// The slow transaction takes the lower seq...
			mustExec(t, slow, insertEvent, "evt_slow", "lj-bank", payload("evt_slow"))
			// ...the fast one the higher, and commits first.
			mustExec(t, fast, insertEvent, "evt_fast", "lj-bank", payload("evt_fast"))
			if err := fast.Commit(); err != nil {
				t.Fatal(err)
			}

			got, c := pullAll(t, d, "lj-bank", outbox.Cursor{}, 100)
			if err := slow.Commit(); err != nil {
				t.Fatal(err)
			}
			more, _ := pullAll(t, d, "lj-bank", c, 100)
			got = append(got, more...)
			slices.Sort(got)
			want := append(before, "evt_fast", "evt_slow")
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("pulled %v across the late commit, want every event once: %v", got, want)
			}
		})
	}
}

func mustExec(t *testing.T, tx *sqlx.Tx, q string, args ...any) {
	t.Helper()
	if _, err := tx.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// TestPartnersSeeOnlyTheirOwn: pull and acknowledgement are per partner (A1).
func TestPartnersSeeOnlyTheirOwn(t *testing.T) {
	d := pgtest.Open(t)
	addPartner(t, d, "lj-bank")
	addPartner(t, d, "hc-bank")
	a := insertEvents(t, d, "lj-bank", 3)
	b := insertEvents(t, d, "hc-bank", 2)
	got, endA := pullAll(t, d, "lj-bank", outbox.Cursor{}, 100)
	if !slices.Equal(got, a) {
		t.Fatalf("lj-bank pulled %v, want %v", got, a)
	}
	// hc-bank with lj-bank's cursor sees nothing of lj-bank's.
	gotB, _ := pullAll(t, d, "hc-bank", outbox.Cursor{}, 100)
	if !slices.Equal(gotB, b) {
		t.Fatalf("hc-bank pulled %v, want %v", gotB, b)
	}
	acked, err := outbox.Ack(t.Context(), d, "hc-bank", a)
	if err != nil || len(acked) != 0 {
		t.Fatalf("hc-bank acknowledged lj-bank's events: %v, %v", acked, err)
	}
	// A cursor of lj-bank's in hc-bank's hands reaches only hc-bank's events.
	if _, err := outbox.AckUpTo(t.Context(), d, "hc-bank", endA); err != nil {
		t.Fatal(err)
	}
	var pending int
	if err := d.Get(&pending, `SELECT count(*) FROM events WHERE partner_id = 'lj-bank' AND status = 'pending' AND acked_at IS NULL`); err != nil || pending != 3 {
		t.Fatalf("lj-bank has %d unacknowledged events, want 3 (%v)", pending, err)
	}
	acked, err = outbox.Ack(t.Context(), d, "lj-bank", a[:2])
	if err != nil || len(acked) != 2 {
		t.Fatalf("lj-bank acknowledged %v, %v", acked, err)
	}
	if evs, _ := outbox.Claim(t.Context(), d, "lj-bank", "n1", time.Minute, 10); len(evs) != 1 || evs[0].ID != a[2] {
		t.Fatalf("after acknowledging two, the push claims %v, want only %s", evs, a[2])
	}
}

// TestConcurrentClaimsNeverOverlap: claims by status with SKIP LOCKED from
// many workers take every due event exactly once (D5).
func TestConcurrentClaimsNeverOverlap(t *testing.T) {
	d := pgtest.Open(t)
	addPartner(t, d, "lj-bank")
	if _, err := d.Exec(`INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, next_attempt_at)
		SELECT 'evt_' || i, 'lj-bank', 'bundle.registered', 'b', now(), '{}', now() FROM generate_series(1, 600) i`); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		node := fmt.Sprintf("node-%d", w)
		wg.Go(func() {
			for {
				evs, err := outbox.Claim(context.Background(), d, "lj-bank", node, time.Minute, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(evs) == 0 {
					return
				}
				mu.Lock()
				for _, e := range evs {
					if prev, ok := seen[e.ID]; ok {
						errs <- fmt.Errorf("%s claimed by %s and %s", e.ID, prev, node)
					}
					seen[e.ID] = node
					if e.Attempt != 1 {
						errs <- fmt.Errorf("%s claimed as attempt %d", e.ID, e.Attempt)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != 600 {
		t.Errorf("%d events claimed, want 600", len(seen))
	}
}

// endLeases makes every lease in d run out now, on the database's clock,
// as if its length had passed: tests do not sleep for it. A claim moved the
// event's next attempt to its lease's end (Claim), so that moves too.
func endLeases(t *testing.T, d *sqlx.DB) {
	t.Helper()
	if _, err := d.Exec(`UPDATE events SET claimed_until = now() - interval '1 millisecond', next_attempt_at = now() - interval '1 millisecond'
		WHERE claimed_until IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
}

// TestLeaseRescue: an event claimed by a node that died returns to the
// queue when the lease ends, as the next attempt (D6).
func TestLeaseRescue(t *testing.T) {
	d := pgtest.Open(t)
	addPartner(t, d, "lj-bank")
	ids := insertEvents(t, d, "lj-bank", 1)
	evs, err := outbox.Claim(t.Context(), d, "lj-bank", "dead-node", time.Minute, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("claim: %v, %v", evs, err)
	}
	// The dead node never records anything. While its lease runs, nobody
	// else may take the event.
	if evs, err := outbox.Claim(t.Context(), d, "lj-bank", "live-node", time.Minute, 10); err != nil || len(evs) != 0 {
		t.Fatalf("claimed during another node's lease: %v, %v", evs, err)
	}
	endLeases(t, d)
	rescued, err := outbox.Claim(t.Context(), d, "lj-bank", "live-node", time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rescued) != 1 || rescued[0].ID != ids[0] || rescued[0].Attempt != 2 {
		t.Fatalf("after the lease: %+v, want %s as attempt 2", rescued, ids[0])
	}
	var ended bool
	if err := d.Get(&ended, `SELECT (SELECT max(claimed_until) FROM events) > now()`); err != nil || !ended {
		t.Fatalf("the rescue took a new lease: %v %v", ended, err)
	}
}

// TestRecordOnlyForTheClaimThatMadeIt: a node whose lease ran out cannot undo
// the newer attempt of the node that rescued the event; a success still
// counts whoever reports it.
func TestRecordOnlyForTheClaimThatMadeIt(t *testing.T) {
	d := pgtest.Open(t)
	addPartner(t, d, "lj-bank")
	id := insertEvents(t, d, "lj-bank", 1)[0]
	ctx := t.Context()
	first, _ := outbox.Claim(ctx, d, "lj-bank", "slow-node", time.Minute, 1)
	if len(first) != 1 {
		t.Fatal("no claim")
	}
	endLeases(t, d) // the slow node is still at work when its lease runs out
	second, _ := outbox.Claim(ctx, d, "lj-bank", "fast-node", time.Minute, 1)
	if len(second) != 1 || second[0].Attempt != 2 {
		t.Fatalf("rescue: %+v", second)
	}
	now := time.Now()
	// The slow node's late failure is logged but moves nothing.
	if err := outbox.Record(ctx, d, "slow-node", []outbox.Result{{EventID: id, Attempt: 1, StartedAt: now, StatusCode: 500,
		Error: "HTTP 500", Outcome: outbox.Dead}}); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Status    string `db:"status"`
		ClaimedBy string `db:"claimed_by"`
	}
	if err := d.Get(&st, `SELECT status, coalesce(claimed_by, '') AS claimed_by FROM events WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if st.Status != "pending" || st.ClaimedBy != "fast-node" {
		t.Fatalf("after the stale failure: %+v, want pending and claimed by fast-node", st)
	}
	if err := outbox.Record(ctx, d, "fast-node", []outbox.Result{{EventID: id, Attempt: 2, StartedAt: now, StatusCode: 200, Outcome: outbox.Delivered}}); err != nil {
		t.Fatal(err)
	}
	var attempts []int
	if err := d.Select(&attempts, `SELECT attempt FROM deliveries WHERE event_id = $1 ORDER BY attempt`, id); err != nil {
		t.Fatal(err)
	}
	if err := d.Get(&st, `SELECT status, coalesce(claimed_by, '') AS claimed_by FROM events WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if st.Status != "delivered" || !slices.Equal(attempts, []int{1, 2}) {
		t.Fatalf("status %s, attempts logged %v; want delivered and [1 2]", st.Status, attempts)
	}
}

func TestDeadLettersAndRedelivery(t *testing.T) {
	d := pgtest.Open(t)
	addPartner(t, d, "lj-bank")
	addPartner(t, d, "hc-bank")
	ids := insertEvents(t, d, "lj-bank", 2)
	insertEvents(t, d, "hc-bank", 1)
	ctx := t.Context()
	evs, _ := outbox.Claim(ctx, d, "lj-bank", "n1", time.Minute, 1)
	if err := outbox.Record(ctx, d, "n1", []outbox.Result{{EventID: evs[0].ID, Attempt: 1, StartedAt: time.Now(),
		Error: "connection refused", Outcome: outbox.Dead}}); err != nil {
		t.Fatal(err)
	}
	dead, err := outbox.DeadLetters(ctx, d, "", 100)
	if err != nil || len(dead) != 1 || dead[0].ID != ids[0] || dead[0].LastError != "connection refused" || !dead[0].LastAttemptAt.Valid {
		t.Fatalf("dead letters: %+v, %v", dead, err)
	}
	if dead, _ := outbox.DeadLetters(ctx, d, "hc-bank", 100); len(dead) != 0 {
		t.Fatalf("hc-bank's dead letters: %+v", dead)
	}
	// Still pullable.
	if got, _ := pullAll(t, d, "lj-bank", outbox.Cursor{}, 100); !slices.Equal(got, ids) {
		t.Fatalf("pull with a dead letter: %v", got)
	}
	if err := outbox.Redeliver(ctx, d, ids[1]); !errors.Is(err, outbox.ErrNotDead) {
		t.Errorf("redeliver a pending event: %v, want ErrNotDead", err)
	}
	if err := outbox.Redeliver(ctx, d, "evt_nope"); !errors.Is(err, outbox.ErrNotFound) {
		t.Errorf("redeliver an unknown event: %v, want ErrNotFound", err)
	}
	if err := outbox.Redeliver(ctx, d, ids[0]); err != nil {
		t.Fatal(err)
	}
	evs, _ = outbox.Claim(ctx, d, "lj-bank", "n1", time.Minute, 10)
	if len(evs) != 2 || evs[0].ID != ids[0] || evs[0].Attempt != 2 {
		t.Fatalf("after redelivery the push claims %+v", evs)
	}
}

// TestPullOrdersTransactionIDsAsNumbers: xid 10 comes after xid 9 (not as
// text, where "10" < "9").
func TestPullOrdersTransactionIDsAsNumbers(t *testing.T) {
	d := pgtest.Open(t)
	addPartner(t, d, "lj-bank")
	for _, xid := range []string{"10", "9", "100"} {
		if _, err := d.Exec(`INSERT INTO events (id, xid, partner_id, type, subject, occurred_at, payload, next_attempt_at)
			VALUES ($1, $2::xid8, 'lj-bank', 'bundle.registered', 'b', now(), '{}', now())`, "evt_xid_"+xid, xid); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	c := outbox.Cursor{}
	for range 3 {
		p, err := outbox.Pull(t.Context(), d, "lj-bank", c, 1)
		if err != nil || len(p.Events) != 1 {
			t.Fatalf("pull: %+v, %v", p, err)
		}
		got, c = append(got, p.Events[0].ID), p.Next
	}
	if want := []string{"evt_xid_9", "evt_xid_10", "evt_xid_100"}; !slices.Equal(got, want) {
		t.Errorf("pulled %v, want %v", got, want)
	}
}
