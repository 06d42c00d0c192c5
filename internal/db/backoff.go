package db

import "time"

// Backoff is a capped exponential wait: Min, then twice as long after each
// failure, never more than Max. A loop that polls the database uses it so an
// outage costs one attempt (and one log line) per wait, not one a second.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration
}

// Next returns the wait before the next attempt and doubles the one after.
func (b *Backoff) Next() time.Duration {
	if b.next < b.Min {
		b.next = b.Min
	}
	d := min(b.next, b.Max)
	b.next = min(2*d, b.Max)
	return d
}

// Reset starts again from Min, after a success.
func (b *Backoff) Reset() { b.next = 0 }

// Outage follows one loop's view of the database: up, or down since a
// failure classified by IsUnavailable. It tells the loop when to log (only
// when the state changes) and how long to wait while down.
type Outage struct {
	Backoff
	down bool
}

// NewOutage returns an Outage that waits min, doubling up to max.
func NewOutage(min, max time.Duration) *Outage {
	return &Outage{Backoff: Backoff{Min: min, Max: max}}
}

// Down records a failed attempt and returns the wait before the next one,
// and whether this failure starts the outage (the one to log).
func (o *Outage) Down() (wait time.Duration, started bool) {
	started = !o.down
	o.down = true
	return o.Next(), started
}

// Up records a successful attempt and reports whether it ends an outage
// (the one to log).
func (o *Outage) Up() (ended bool) {
	ended = o.down
	o.down = false
	o.Reset()
	return ended
}

// IsDown reports whether the last attempt failed.
func (o *Outage) IsDown() bool { return o.down }
