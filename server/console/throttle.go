package console

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"

	"mortgaged/internal/pii"
)

// Sign-in costs argon2id's 64 MiB and a tenth of a second of CPU whether or
// not the user exists, so nobody outside may make the node run it at will
// (PROMISES A6). Three bounds, all in memory and per node:
//
//   - at most hashSlots hashes at once; one more sign-in is answered 429 at
//     once rather than queued, so a flood holds neither memory nor the CPU
//     the partner API needs;
//   - failures per client address: a guesser from one address slows to
//     one try every addrEvery after addrBurst failures;
//   - failures per user name from one address: after userBurst wrong
//     passwords that user name is slowed, from that address only. Nobody
//     can lock a named account out from elsewhere: the real user, from
//     their own address, is not slowed by a stranger's failures.
//
// The failures are kept in expiring LRUs of bounded size: a spray of
// addresses or names evicts the oldest entries (which only forgets a
// slowdown) instead of growing memory. A supervisor sees the slowed
// entries and may clear one (/console/throttles).
const (
	addrBurst    = 30
	addrEvery    = 10 * time.Second
	userBurst    = 5
	userEvery    = time.Minute
	throttleKeep = time.Hour // an entry unused this long is forgotten (full again)
	throttleSize = 10_000
)

// hashSlots is how many hashes may run at once: one argon2id uses four
// lanes, so one per four cores (one on the two-core node: two at once
// only took turns on the cores and slowed the partner API more).
var hashSlots = max(1, runtime.NumCPU()/4)

type signinThrottle struct {
	mu      sync.Mutex // one limiter per key, however many fail at once
	hashing chan struct{}
	byAddr  *expirable.LRU[string, *rate.Limiter]
	byUser  *expirable.LRU[string, *rate.Limiter] // key: user name + "\x00" + address
}

func newSigninThrottle() *signinThrottle {
	return &signinThrottle{
		hashing: make(chan struct{}, hashSlots),
		byAddr:  expirable.NewLRU[string, *rate.Limiter](throttleSize, nil, throttleKeep),
		byUser:  expirable.NewLRU[string, *rate.Limiter](throttleSize, nil, throttleKeep),
	}
}

// clientAddr is the address a sign-in is counted against: the connection's
// peer (a forwarded-for header is the client's to write), an IPv6 client by
// its /64, which one host usually holds whole.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
	}
	return ip.String()
}

func userKey(user, addr string) string { return user + "\x00" + addr }

// wait is how long user from addr must wait before another try; 0 means
// now. It takes nothing: only failures are counted.
func (t *signinThrottle) wait(user, addr string, now time.Time) time.Duration {
	w := time.Duration(0)
	if l, ok := t.byAddr.Peek(addr); ok {
		w = max(w, untilToken(l, now))
	}
	if l, ok := t.byUser.Peek(userKey(user, addr)); ok {
		w = max(w, untilToken(l, now))
	}
	return w
}

func untilToken(l *rate.Limiter, now time.Time) time.Duration {
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(l.Limit()) * float64(time.Second))
}

// failed counts a failed sign-in against the address and the user name
// from that address.
func (t *signinThrottle) failed(user, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	take := func(c *expirable.LRU[string, *rate.Limiter], key string, every time.Duration, burst int) {
		l, ok := c.Get(key)
		if !ok {
			l = rate.NewLimiter(rate.Every(every), burst) // full
			c.Add(key, l)
		}
		l.AllowN(now, 1)
	}
	take(t.byAddr, addr, addrEvery, addrBurst)
	take(t.byUser, userKey(user, addr), userEvery, userBurst)
}

// succeeded forgets the user name's failures from that address.
func (t *signinThrottle) succeeded(user, addr string) { t.byUser.Remove(userKey(user, addr)) }

// hash takes a hashing slot, or reports false at once when all are busy.
func (t *signinThrottle) hash() (release func(), ok bool) {
	select {
	case t.hashing <- struct{}{}:
		return func() { <-t.hashing }, true
	default:
		return nil, false
	}
}

// Throttle is one slowed address, or user name from an address, as the
// supervisor sees it.
type Throttle struct {
	Kind     string // "addr" or "user"
	User     string
	Addr     string
	Failures int       // failures the limiter still remembers
	Until    time.Time // when the next try is allowed; zero when now
}

// list is every entry that remembers a failure, slowest first.
func (t *signinThrottle) list(now time.Time) []Throttle {
	var out []Throttle
	add := func(kind string, c *expirable.LRU[string, *rate.Limiter], burst int) {
		for _, k := range c.Keys() {
			l, ok := c.Peek(k)
			if !ok {
				continue
			}
			tokens := l.TokensAt(now)
			failures := int(math.Ceil(float64(burst) - tokens))
			if failures <= 0 {
				continue
			}
			th := Throttle{Kind: kind, Addr: k, Failures: failures}
			if kind == "user" {
				th.User, th.Addr, _ = strings.Cut(k, "\x00")
			}
			if w := untilToken(l, now); w > 0 {
				th.Until = now.Add(w)
			}
			out = append(out, th)
		}
	}
	add("addr", t.byAddr, addrBurst)
	add("user", t.byUser, userBurst)
	slices.SortStableFunc(out, func(a, b Throttle) int { return b.Until.Compare(a.Until) })
	return out
}

func (t *signinThrottle) has(kind, key string) bool {
	c := t.byKind(kind)
	return c != nil && c.Contains(key)
}

// clear forgets one entry; it reports whether there was one.
func (t *signinThrottle) clear(kind, key string) bool {
	c := t.byKind(kind)
	return c != nil && c.Remove(key)
}

// byKind is the table of one kind of entry ("addr" or "user"), or nil.
func (t *signinThrottle) byKind(kind string) *expirable.LRU[string, *rate.Limiter] {
	switch kind {
	case "addr":
		return t.byAddr
	case "user":
		return t.byUser
	}
	return nil
}

type throttlesData struct {
	Items []Throttle
}

// throttles shows supervisors the sign-ins being slowed, so a member of
// staff slowed by their own typing can be let in at once.
func (c *Console) throttles(w http.ResponseWriter, r *http.Request, s *session) error {
	if !s.Role.CanSupervise() {
		return errForbiddenRole
	}
	d := throttlesData{Items: c.throttle.list(c.now())}
	c.render(w, r, http.StatusOK, "throttles.html", view{Title: "登录限速", Nav: "throttles", S: s, Data: d})
	return nil
}

// clearThrottle forgets one entry's failures, audited.
func (c *Console) clearThrottle(w http.ResponseWriter, r *http.Request, s *session) error {
	kind, user, addr := r.PostForm.Get("kind"), r.PostForm.Get("user"), r.PostForm.Get("addr")
	key := addr
	if kind == "user" {
		key = userKey(user, addr)
	}
	if !c.throttle.has(kind, key) {
		c.setFlash(w, r, "error", "该限速记录已不存在（已过期或已被清除）。")
		http.Redirect(w, r, "/console/throttles", http.StatusSeeOther)
		return nil
	}
	if err := c.staff.ThrottleCleared(r.Context(), s.Username, kind, pii.Clip(user, 64), pii.Clip(addr, 64), c.now()); err != nil {
		return err
	}
	c.throttle.clear(kind, key) // audited first: nothing is cleared unrecorded
	c.log.Info("console: sign-in throttle cleared", slog.String("staff", s.Username), slog.String("kind", kind), slog.String("addr", pii.Clip(addr, 64)))
	return c.done(w, r, "已清除限速，可立即再次登录。", "/console/throttles")
}
