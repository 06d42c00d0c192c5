// Package testwait is how tests wait for something another goroutine or
// process does: poll a condition with backoff until it holds, and fail the
// test with the condition's last word if it never does. Tests never sleep to
// synchronise.
//
//	testwait.For(t, func() error {
//		if n := runs.Load(); n < 10 {
//			return fmt.Errorf("%d runs, want 10", n)
//		}
//		return nil
//	})
package testwait

import (
	"time"
)

// Timeout bounds every wait. It is only reached when a test is failing, so
// it is generous: a loaded CI machine running -race must not fail a test
// that is merely slow.
const Timeout = 2 * time.Minute

// TB is the part of testing.TB that For uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// For calls cond until it returns nil, waiting 1 ms after the first try and
// doubling up to 100 ms between tries. If cond has not returned nil within
// Timeout, For fails the test with cond's last error. cond runs on the
// test's goroutine, so it may call t.Fatal itself.
func For(t TB, cond func() error) {
	t.Helper()
	poll(t, Timeout, cond)
}

func poll(t TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testwait: still waiting after %v: %v", timeout, err)
			return
		}
		time.Sleep(delay) // polling with a deadline, not synchronising
		delay = min(2*delay, 100*time.Millisecond)
	}
}
