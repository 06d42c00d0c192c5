package push_test

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai on a host without a zoneinfo database

	"mortgaged/internal/testwait"
	"mortgaged/sync/pglock"
	"mortgaged/sync/push"
)

// TestSchedulersAcrossNodes runs two nodes' schedulers with the PostgreSQL
// locker: each partner's push runs on its schedule, events reach the partner
// once per attempt, and the job list follows the partners' settings.
func TestSchedulersAcrossNodes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ep := newEndpoint(t)
	ep.setSecret(e.partner("lj-bank", ep.url(), "@every 1s", "each"))
	e.partner("hc-bank", ep.url(), "0 18 * * *", "each")
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	var schedulers []*push.Scheduler
	for _, node := range []string{"node-1", "node-2"} {
		s, err := push.NewScheduler(e.deliverer(node, push.Config{}), push.SchedulerOptions{
			Location: shanghai, Reconcile: 100 * time.Millisecond, Locker: pglock.New(e.db.DB, 0, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		schedulers = append(schedulers, s)
	}
	defer func() {
		for _, s := range schedulers {
			if err := s.Shutdown(t.Context()); err != nil {
				t.Error(err)
			}
		}
	}()
	jobs := schedulers[0].Jobs()
	if jobs["lj-bank"] != "@every 1s" || jobs["hc-bank"] != "0 18 * * *" || len(jobs) != 2 {
		t.Fatalf("jobs %v", jobs)
	}
	ids := e.addEvents("lj-bank", 200)
	testwait.For(t, func() error {
		var left int
		if err := e.db.Get(&left, `SELECT count(*) FROM events WHERE status <> 'delivered'`); err != nil {
			t.Fatal(err)
		}
		if left > 0 {
			return fmt.Errorf("%d of %d events undelivered", left, len(ids))
		}
		return nil
	})
	seen := map[string]bool{}
	for _, r := range ep.requests() {
		if seen[r.id+"#"+r.attempt] {
			t.Errorf("%s attempt %s arrived twice", r.id, r.attempt)
		}
		seen[r.id+"#"+r.attempt] = true
	}

	// Settings change: a new schedule, and a push turned off.
	if _, err := e.reg.SetPush(t.Context(), "lj-bank", ep.url(), "@every 2s", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.StopPush(t.Context(), "hc-bank"); err != nil {
		t.Fatal(err)
	}
	for _, s := range schedulers {
		testwait.For(t, func() error {
			if jobs := s.Jobs(); jobs["lj-bank"] != "@every 2s" || len(jobs) != 1 {
				return fmt.Errorf("jobs after the change: %v", jobs)
			}
			return nil
		})
	}
}
