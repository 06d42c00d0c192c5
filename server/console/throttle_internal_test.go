package console

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// One address failing under many user names is slowed as a whole; other
// addresses are not, and it may try again once a token is back.
func TestAddressSlowedAfterItsFailures(t *testing.T) {
	t.Parallel()
	th := newSigninThrottle()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range addrBurst {
		th.failed("user"+strconv.Itoa(i), "192.0.2.1", now)
	}
	if w := th.wait("someone-else", "192.0.2.1", now); w <= 0 || w > addrEvery {
		t.Errorf("wait after %d failures from one address: %v, want up to %v", addrBurst, w, addrEvery)
	}
	if w := th.wait("someone-else", "192.0.2.2", now); w != 0 {
		t.Errorf("another address waits %v, want 0", w)
	}
	if w := th.wait("someone-else", "192.0.2.1", now.Add(addrEvery)); w != 0 {
		t.Errorf("after %v: wait %v, want 0", addrEvery, w)
	}
}

// A spray of addresses cannot grow memory: the oldest entries are
// forgotten at throttleSize.
func TestThrottleMemoryIsBounded(t *testing.T) {
	t.Parallel()
	th := newSigninThrottle()
	now := time.Now()
	for i := range throttleSize + 500 {
		th.failed("u", "10.0."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256), now)
	}
	if n := th.byAddr.Len(); n != throttleSize {
		t.Errorf("%d addresses remembered, want %d", n, throttleSize)
	}
	if n := th.byUser.Len(); n != throttleSize {
		t.Errorf("%d user names remembered, want %d", n, throttleSize)
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.7:51234":            "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64", // one host's /64 is one client
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:51234":   "192.0.2.7",
		"not-an-address":             "not-an-address",
	} {
		if got := clientAddr(&http.Request{RemoteAddr: in}); got != want {
			t.Errorf("clientAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
