package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"

	"mortgaged/partners"
	"mortgaged/sync/pglock"
)

// DefaultReconcile is how soon a node notices a partner's changed push settings.
const DefaultReconcile = 30 * time.Second

// Scheduler runs each partner's push on the partner's schedule.
type Scheduler struct {
	deliverer *Deliverer
	registry  *partners.Registry
	log       *slog.Logger
	reconcile time.Duration

	gs   gocron.Scheduler
	mu   sync.Mutex
	jobs map[string]job // by partner id
	gate *outageGate    // shut while the database is unavailable
}

type job struct {
	id       uuid.UUID
	schedule string
}

// SchedulerOptions configure a Scheduler; zero fields take the defaults.
type SchedulerOptions struct {
	Location  *time.Location // cron schedules are in the centre's time (Asia/Shanghai)
	Reconcile time.Duration  // how often the job list is refreshed from the partners (DefaultReconcile)
	Locker    gocron.Locker  // one node at a time per partner; nil: every node runs every job
}

// NewScheduler makes a scheduler; Start runs it.
func NewScheduler(d *Deliverer, o SchedulerOptions) (*Scheduler, error) {
	if o.Location == nil {
		o.Location = time.Local
	}
	// gocron hands cron expressions the zone by name (CRON_TZ=…), so the
	// zone must be one that loads by name, not a fixed offset.
	if _, err := time.LoadLocation(o.Location.String()); err != nil {
		return nil, fmt.Errorf("push schedules need a named time zone such as Asia/Shanghai: %w", err)
	}
	if o.Reconcile <= 0 {
		o.Reconcile = DefaultReconcile
	}
	opts := []gocron.SchedulerOption{
		gocron.WithLocation(o.Location),
		gocron.WithLogger(gocronLogger{d.Log}),
		// Shutdown waits for POSTs in flight to be answered and recorded.
		gocron.WithStopTimeout(d.cfg.Timeout + 15*time.Second),
	}
	if o.Locker != nil {
		opts = append(opts, gocron.WithDistributedLocker(o.Locker))
	}
	gs, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, err
	}
	return &Scheduler{deliverer: d, registry: d.Registry, log: d.Log, reconcile: o.Reconcile, gs: gs, jobs: map[string]job{},
		gate: newOutageGate(d.Log, time.Now)}, nil
}

// Start schedules every active partner's push, and a job on every node that
// refreshes that list, then starts running them.
func (s *Scheduler) Start(ctx context.Context) error {
	if err := s.Reconcile(ctx); err != nil {
		return err
	}
	_, err := s.gs.NewJob(gocron.DurationJob(s.reconcile),
		gocron.NewTask(func(ctx context.Context) {
			if s.gate.shut() {
				return
			}
			err := s.Reconcile(ctx)
			if ctx.Err() != nil || s.gate.observe("reconcile", err) {
				return
			}
			if err != nil {
				s.log.Error("push schedules not refreshed", slog.Any("error", err))
			}
		}),
		gocron.WithName("push/reconcile"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
		gocron.WithDisabledDistributedJobLocker(true), // every node keeps its own list
	)
	if err != nil {
		return fmt.Errorf("schedule the push reconcile job: %w", err)
	}
	s.gs.Start()
	return nil
}

// Shutdown stops scheduling and waits for runs in progress to finish.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	return s.gs.ShutdownWithContext(ctx)
}

// Jobs returns each scheduled partner with its schedule.
func (s *Scheduler) Jobs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.jobs))
	for id, j := range s.jobs {
		out[id] = j.schedule
	}
	return out
}

// Reconcile brings the jobs in line with the partners' push settings: a job
// for each active partner, on its current schedule, and none for the rest.
func (s *Scheduler) Reconcile(ctx context.Context) error {
	ps, err := s.registry.Pushes(ctx)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, p := range ps {
		if p.Active() {
			want[p.PartnerID] = p.Schedule
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, j := range s.jobs {
		if sched, ok := want[id]; !ok || sched != j.schedule {
			if err := s.gs.RemoveJob(j.id); err != nil && !errors.Is(err, gocron.ErrJobNotFound) {
				return fmt.Errorf("unschedule push of %s: %w", id, err)
			}
			delete(s.jobs, id)
			s.log.Info("push unscheduled", slog.String("partner", id), slog.String("schedule", j.schedule))
		}
	}
	var errs []error
	for id, sched := range want {
		if _, ok := s.jobs[id]; ok {
			continue
		}
		j, err := s.add(id, sched)
		if err != nil {
			errs = append(errs, err) // one bad schedule must not stop the others
			continue
		}
		s.jobs[id] = j
		s.log.Info("push scheduled", slog.String("partner", id), slog.String("schedule", sched))
	}
	return errors.Join(errs...)
}

func (s *Scheduler) add(partnerID, schedule string) (job, error) {
	def, opts, err := definition(schedule)
	if err != nil {
		return job{}, fmt.Errorf("push of %s: %w", partnerID, err)
	}
	opts = append(opts,
		// The lock key: one node at a time runs a partner's push.
		gocron.WithName("push/"+partnerID),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
		gocron.WithEventListeners(gocron.AfterLockError(func(_ uuid.UUID, name string, err error) {
			if !errors.Is(err, pglock.ErrHeld) && !s.gate.observe("lock", err) {
				s.log.Warn("push run skipped: lock not taken", slog.String("job", name), slog.Any("error", err))
			}
		})),
	)
	j, err := s.gs.NewJob(def, gocron.NewTask(func(ctx context.Context) { s.run(ctx, partnerID) }), opts...)
	if err != nil {
		return job{}, fmt.Errorf("schedule push of %s (%q): %w", partnerID, schedule, err)
	}
	return job{id: j.ID(), schedule: schedule}, nil
}

// definition turns a partner's schedule into a gocron job definition. An
// interval runs at once and then every interval; a cron expression runs at
// its times only (the provident fund centre's daily batch must not go out at
// every restart).
func definition(schedule string) (gocron.JobDefinition, []gocron.JobOption, error) {
	if err := partners.ValidateSchedule(schedule); err != nil {
		return nil, nil, err
	}
	if rest, ok := strings.CutPrefix(schedule, "@every "); ok {
		d, _ := time.ParseDuration(strings.TrimSpace(rest))
		return gocron.DurationJob(d), []gocron.JobOption{gocron.WithStartAt(gocron.WithStartImmediately())}, nil
	}
	return gocron.CronJob(schedule, false), nil, nil
}

func (s *Scheduler) run(ctx context.Context, partnerID string) {
	if s.gate.shut() {
		return // the events wait in the outbox; nothing is claimed
	}
	start := time.Now()
	st, err := s.deliverer.Run(ctx, partnerID)
	if s.gate.observe("push of "+partnerID, err) {
		return
	}
	if err != nil {
		s.log.Error("push run failed", slog.String("partner", partnerID), slog.Any("error", err))
	}
	if st.Attempts > 0 {
		s.log.Info("push run", slog.String("partner", partnerID), slog.Int("attempts", st.Attempts),
			slog.Int("delivered", st.Delivered), slog.Int("failed", st.Failed), slog.Int("dead", st.Dead),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000))
	}
}

// gocronLogger passes gocron's messages to slog, its chatter at debug level.
type gocronLogger struct{ l *slog.Logger }

func (g gocronLogger) Debug(msg string, args ...any) { g.l.Debug("gocron: "+msg, args...) }
func (g gocronLogger) Info(msg string, args ...any)  { g.l.Debug("gocron: "+msg, args...) }
func (g gocronLogger) Warn(msg string, args ...any)  { g.l.Warn("gocron: "+msg, args...) }
func (g gocronLogger) Error(msg string, args ...any) { g.l.Error("gocron: "+msg, args...) }
