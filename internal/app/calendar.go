package app

import (
	"context"
	"log/slog"
	"time"

	"mortgaged/mortgage"
)

// calendarCheckInterval is how often a node looks whether next year's
// holiday notice is loaded; it logs at most once per business day.
const calendarCheckInterval = time.Hour

// CalendarWatch logs, once per business day, that next year's holiday notice
// is not loaded (from 1 December, mortgage.Service.CalendarYearMissing).
// Every node runs one; with several nodes each logs once a day, which is
// enough for an alert and not a flood.
type CalendarWatch struct {
	Service *mortgage.Service
	Log     *slog.Logger

	logged mortgage.Date // business date of the last warning
}

// Check logs the warning unless it did so already today (on the service's
// clock).
func (w *CalendarWatch) Check(ctx context.Context) {
	year, err := w.Service.CalendarYearMissing(ctx)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		w.Log.Warn("calendar not checked for next year", slog.Any("error", err))
		return
	case year == 0:
		return
	}
	today := w.Service.Today()
	if today.String() == w.logged.String() {
		return
	}
	w.logged = today
	w.Log.Warn("next year's holiday notice is not loaded: deadlines from 1 January cannot be computed; load it in the console",
		slog.String("code", mortgage.CodeCalendarNextYearMissing), slog.Int("year", year))
}

// run checks at start and then every interval until ctx ends.
func (w *CalendarWatch) run(ctx context.Context) {
	for {
		w.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(calendarCheckInterval):
		}
	}
}
