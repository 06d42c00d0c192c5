package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"mortgaged/sync/pglock"
)

// JobName is the job's name and so its lock: however many nodes share the
// database, one at a time runs it.
const JobName = "retention"

// Start schedules Run every interval on d, at once and then every
// interval, under locker (nil: every node runs it, which is still correct,
// only wasteful). Shut the returned scheduler down before closing d.
func Start(d *sqlx.DB, p Policy, interval time.Duration, locker gocron.Locker, log *slog.Logger) (gocron.Scheduler, error) {
	opts := []gocron.SchedulerOption{gocron.WithStopTimeout(time.Minute)}
	if locker != nil {
		opts = append(opts, gocron.WithDistributedLocker(locker))
	}
	s, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, err
	}
	_, err = s.NewJob(gocron.DurationJob(interval),
		gocron.NewTask(func(ctx context.Context) {
			r, err := Run(ctx, d, p, time.Now())
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("retention run failed", slog.Any("error", err), slog.Any("removed", r))
			case r != Removed{}:
				log.Info("retention: removed what outlived its period",
					slog.Int64("batch_chunks", r.BatchChunks), slog.Int64("events", r.Events), slog.Int64("deliveries", r.Deliveries))
			}
		}),
		gocron.WithName(JobName),
		gocron.WithStartAt(gocron.WithStartImmediately()),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
		gocron.WithEventListeners(gocron.AfterLockError(func(_ uuid.UUID, _ string, err error) {
			if !errors.Is(err, pglock.ErrHeld) { // held: another node is running it
				log.Warn("retention run skipped: lock not taken", slog.Any("error", err))
			}
		})),
	)
	if err != nil {
		return nil, fmt.Errorf("schedule retention: %w", err)
	}
	s.Start()
	return s, nil
}
