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

// CodeRequestTimeout: the body did not arrive within its deadline (408).
const CodeRequestTimeout mortgage.Code = "request_timeout"

// CodeBusy: the node holds as many request bodies as its memory budget
// allows; the partner retries after Retry-After.
const CodeBusy mortgage.Code = "server_busy"

// DefaultBodyBudget bounds the request bodies held in memory at once across
// all partners (PROMISES A6): two of the largest bundles, or many small
// requests. A 32 MB bundle costs several times its size while it is decoded
// and stored, so the budget is what keeps a flood of them from growing the
// node without bound (measured with cmd/bodybench, docs/BENCHMARKS.md).
const DefaultBodyBudget = 64 << 20

// bodyBudget is a node-wide count of body bytes admitted and not yet
// released. It never waits: a request that does not fit is answered 503
// before its body is read, so a flood cannot queue memory either.
type bodyBudget struct {
	mu   sync.Mutex
	used int64
}

// take reserves n bytes of limit and returns the function that gives them
// back, or nil when n does not fit. A body larger than the whole budget is
// admitted only when nothing else is held, so a small budget cannot refuse
// the largest allowed body forever.
func (b *bodyBudget) take(n, limit int64) (release func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used > 0 && b.used+n > limit {
		return nil
	}
	b.used += n
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.used -= n
			b.mu.Unlock()
		})
	}
}
