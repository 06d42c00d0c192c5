package mortgage

import (
	"context"
	"slices"
	"time"
)

// CodeCalendarNextYearMissing names the warning that next year's holiday
// notice is not loaded while this year ends (readiness body, logs).
const CodeCalendarNextYearMissing = "calendar_next_year_missing"

// CalendarYearMissing is the year whose holiday notice ought to be loaded by
// now and is not: from 1 December (business time, on the service's clock)
// next year, whose deadlines cannot be computed without it. It is 0 when
// nothing is missing. The State Council publishes the notice in the autumn,
// so December leaves staff a month to load it before bundles stop.
func (s *Service) CalendarYearMissing(ctx context.Context) (int, error) {
	loc := s.Config.Calendar.Location
	if loc == nil {
		loc = s.Config.Location
	}
	now := s.Now().In(loc)
	if now.Month() != time.December {
		return 0, nil
	}
	_, cal, err := s.routing(ctx)
	if err != nil {
		return 0, err
	}
	if next := now.Year() + 1; !slices.Contains(cal.Years(), next) {
		return next, nil
	}
	return 0, nil
}
