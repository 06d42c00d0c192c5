package server

import (
	"math"
	"sync"
	"time"

	"mortgaged/mortgage"
	"mortgaged/partners"
)

// CodeRateLimited: a partner sent more than its rate or concurrency allows.
const CodeRateLimited mortgage.Code = "rate_limited"

// limiter keeps one noisy partner from starving the others (PROMISES A5):
// a token bucket per partner for its rate, and a cap on its requests in
// flight. Limits are per node; with n nodes a partner gets up to n times
// its configured rate, which the centre sets with that in mind.
type limiter struct {
	mu       sync.Mutex
	now      func() time.Time
	buckets  map[string]*bucket
	inFlight map[string]int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, buckets: map[string]*bucket{}, inFlight: map[string]int{}}
}

// admit takes a token and a concurrency slot for p. It returns a release
// function, or nil and the seconds to wait.
func (l *limiter) admit(p partners.Partner) (release func(), retryAfter int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	perSecond := float64(p.RatePerMinute) / 60
	burst := math.Max(5, float64(p.RatePerMinute)/6) // ten seconds' worth, at least five
	b, ok := l.buckets[p.ID]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		l.buckets[p.ID] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*perSecond)
	b.last = now
	if b.tokens < 1 {
		return nil, int(math.Ceil((1 - b.tokens) / perSecond))
	}
	if l.inFlight[p.ID] >= p.MaxConcurrent {
		return nil, 1
	}
	b.tokens--
	l.inFlight[p.ID]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.inFlight[p.ID]--
			l.mu.Unlock()
		})
	}, 0
}
