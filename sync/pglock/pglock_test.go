package pglock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/testwait"
)

func TestMain(m *testing.M) { pgtest.Main(m, nil) }

func TestLockExcludesOtherSessions(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	a, b := New(d.DB, 0, nil), New(d.DB, 0, nil)
	ctx := t.Context()
	la, err := a.Lock(ctx, "push/lj-bank")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx, "push/lj-bank"); !errors.Is(err, ErrHeld) {
		t.Fatalf("second lock on the same name: %v, want ErrHeld", err)
	}
	lo, err := b.Lock(ctx, "push/hc-bank")
	if err != nil {
		t.Fatalf("a lock on another name: %v", err)
	}
	if err := la.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	lb, err := b.Lock(ctx, "push/lj-bank")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	for _, l := range []interface{ Unlock(context.Context) error }{lb, lo} {
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnlockWithCancelledContext: gocron unlocks with the job's context,
// which shutdown cancels; the lock must still be released.
func TestUnlockWithCancelledContext(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	l := New(d.DB, 0, nil)
	ctx, cancel := context.WithCancel(t.Context())
	k, err := l.Lock(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := k.Unlock(ctx); err != nil {
		t.Fatalf("unlock with a cancelled context: %v", err)
	}
	if k2, err := l.Lock(t.Context(), "job"); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	} else {
		k2.Unlock(t.Context())
	}
}

// TestDeadNodeReleases: a node that dies drops its connection, and
// PostgreSQL releases its lock at once.
func TestDeadNodeReleases(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	nodeA, nodeB := New(d.DB, 0, nil), New(d.DB, 0, nil)
	if _, err := nodeA.Lock(t.Context(), "job"); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeB.Lock(t.Context(), "job"); !errors.Is(err, ErrHeld) {
		t.Fatalf("lock held by a live node: %v, want ErrHeld", err)
	}
	// Node A's process dies: its session ends. (Only this test's database:
	// tests running in parallel hold locks of the same name in theirs.)
	if _, err := d.Exec(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1::bigint & x'ffffffff'::bigint
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, Key("job")); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, func() error {
		k, err := nodeB.Lock(t.Context(), "job")
		if err == nil {
			k.Unlock(t.Context())
			return nil
		}
		if !errors.Is(err, ErrHeld) {
			t.Fatalf("lock after the holder died: %v", err)
		}
		return fmt.Errorf("the dead holder's lock: %w", err)
	})
}

// TestLostLock: a false from pg_advisory_unlock means the lock was gone.
func TestLostLock(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	l := New(d.DB, 0, nil)
	k, err := l.Lock(t.Context(), "job")
	if err != nil {
		t.Fatal(err)
	}
	// What a pooler's DISCARD ALL or a careless unlock_all would do.
	if _, err := k.(*lock).conn.ExecContext(t.Context(), `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	if err := k.Unlock(t.Context()); !errors.Is(err, ErrLost) {
		t.Fatalf("unlock of a lost lock: %v, want ErrLost", err)
	}
}

// TestMaxHeld: locks never pin more connections than allowed.
func TestMaxHeld(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	l := New(d.DB, 1, nil)
	k, err := l.Lock(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second lock past the limit: %v, want to wait until the context ends", err)
	}
	k.Unlock(t.Context())
	k, err = l.Lock(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	k.Unlock(t.Context())
}

// TestGocronRunsAJobOnOneNodeAtATime runs three schedulers, as three nodes
// would, with one job under one name: its runs never overlap.
func TestGocronRunsAJobOnOneNodeAtATime(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	var running, maxRunning, runs atomic.Int32
	var mu sync.Mutex
	var schedulers []gocron.Scheduler
	for range 3 {
		s, err := gocron.NewScheduler(gocron.WithDistributedLocker(New(d.DB, 0, nil)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.NewJob(gocron.DurationJob(20*time.Millisecond), gocron.NewTask(func() {
			n := running.Add(1)
			mu.Lock()
			if n > maxRunning.Load() {
				maxRunning.Store(n)
			}
			mu.Unlock()
			time.Sleep(30 * time.Millisecond) // the job's work: long enough for another node's tick to find it running
			running.Add(-1)
			runs.Add(1)
		}), gocron.WithName("push/lj-bank"))
		if err != nil {
			t.Fatal(err)
		}
		schedulers = append(schedulers, s)
	}
	for _, s := range schedulers {
		s.Start()
	}
	stop := sync.OnceFunc(func() {
		for _, s := range schedulers {
			if err := s.Shutdown(); err != nil {
				t.Error(err)
			}
		}
	})
	t.Cleanup(stop) // should the wait fail
	testwait.For(t, func() error {
		if n := runs.Load(); n < 10 {
			return fmt.Errorf("%d runs, want 10", n)
		}
		return nil
	})
	stop()
	if maxRunning.Load() != 1 {
		t.Errorf("up to %d runs at once across the nodes, want 1", maxRunning.Load())
	}
}
