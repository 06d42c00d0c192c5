package outbox_test

import (
	"errors"
	"testing"
	"time"

	"mortgaged/internal/pgtest"
	"mortgaged/sync/outbox"
)

// TestDeadLetterStoreAudits: the console's redelivery is recorded in the
// audit trail with the event, and a refused one records nothing.
func TestDeadLetterStoreAudits(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	addPartner(t, d, "lj-bank")
	ids := insertEvents(t, d, "lj-bank", 2)
	ctx := t.Context()
	evs, _ := outbox.Claim(ctx, d, "lj-bank", "n1", time.Minute, 1)
	if err := outbox.Record(ctx, d, "n1", []outbox.Result{{EventID: evs[0].ID, Attempt: 1, StartedAt: time.Now(),
		Error: "connection refused", Outcome: outbox.Dead}}); err != nil {
		t.Fatal(err)
	}
	s := outbox.DeadLetterStore{DB: d}
	if dead, err := s.List(ctx, "lj-bank", 10); err != nil || len(dead) != 1 || dead[0].ID != ids[0] {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	if err := s.Redeliver(ctx, ids[1], "staff:zhaolei", at); !errors.Is(err, outbox.ErrNotDead) {
		t.Errorf("redeliver a pending event: %v, want ErrNotDead", err)
	}
	if err := s.Redeliver(ctx, ids[0], "staff:zhaolei", at); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'event.redeliver' AND actor = 'staff:zhaolei' AND at = $1`, at); err != nil || n != 1 {
		t.Errorf("%d redeliveries audited (%v), want the one that happened", n, err)
	}
}
