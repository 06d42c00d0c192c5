package testwait

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	tries := 0
	For(t, func() error {
		if tries++; tries < 5 {
			return fmt.Errorf("try %d", tries)
		}
		return nil
	})
	if tries != 5 {
		t.Errorf("cond called %d times, want 5", tries)
	}
}

// fakeTB records Fatalf instead of failing the real test.
type fakeTB struct{ fatal string }

func (*fakeTB) Helper()                             {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestPollFailsWithTheLastError(t *testing.T) {
	t.Parallel()
	var f fakeTB
	tries := 0
	poll(&f, 0, func() error { tries++; return errors.New("not yet: 3 of 10") })
	if tries != 1 || !strings.Contains(f.fatal, "not yet: 3 of 10") {
		t.Errorf("after %d tries: Fatalf(%q), want one try and the condition's last error", tries, f.fatal)
	}
}
