package push

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"120", 2 * time.Minute, true},
		{"0", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		h := http.Header{}
		h.Set("Retry-After", c.value)
		if got, ok := retryAfter(h, now); got != c.want || ok != c.ok {
			t.Errorf("Retry-After %q = %v, %v; want %v, %v", c.value, got, ok, c.want, c.ok)
		}
	}
}

func TestJitterStaysWithinBounds(t *testing.T) {
	t.Parallel()
	for range 1000 {
		if d := jitter(time.Hour, 0.2); d < 48*time.Minute || d > 72*time.Minute {
			t.Fatalf("jitter(1h, 0.2) = %v", d)
		}
	}
	if jitter(0, 0.2) != 0 {
		t.Error("a zero delay must stay zero")
	}
}

func TestDefaultScheduleIsAboutThreeDays(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for _, d := range DefaultRetry {
		total += d
	}
	if len(DefaultRetry) != 10 || total < 72*time.Hour || total > 80*time.Hour {
		t.Errorf("%d attempts over %v", len(DefaultRetry), total)
	}
	got, err := ParseRetry("0s, 5s,5m")
	if err != nil || len(got) != 3 || got[2] != 5*time.Minute {
		t.Errorf("ParseRetry = %v, %v", got, err)
	}
	if _, err := ParseRetry("0s,soon"); err == nil {
		t.Error("ParseRetry accepts a word")
	}
}
