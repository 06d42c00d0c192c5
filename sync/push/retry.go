package push

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultRetry is the delay before each attempt: the first at once, then
// after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (about
// three days in all). An event whose last attempt fails is a dead letter.
var DefaultRetry = []time.Duration{
	0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// ParseRetry reads a retry schedule written as comma-separated durations,
// e.g. "0s,5s,5m,30m".
func ParseRetry(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < 0 {
			return nil, &retryError{f}
		}
		out = append(out, d)
	}
	return out, nil
}

type retryError struct{ field string }

func (e *retryError) Error() string {
	return "retry schedule: " + strconv.Quote(e.field) + " is not a duration such as 5s or 30m"
}

// jitterFactor draws a factor in [1-fraction, 1+fraction]: retry delays are
// spread so that a partner coming back from an outage is not hit by every
// retry at once.
func jitterFactor(fraction float64) float64 {
	if fraction <= 0 {
		return 1
	}
	return 1 - fraction + 2*fraction*rand.Float64()
}

// jitter spreads d by up to ±fraction.
func jitter(d time.Duration, fraction float64) time.Duration {
	return time.Duration(float64(d) * jitterFactor(fraction))
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(365*24*3600))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
