package staff_test

import (
	"errors"
	"testing"
	"time"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/staff"
)

var at = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) *staff.Store {
	t.Helper()
	s := &staff.Store{DB: pgtest.Open(t), Now: func() time.Time { return at }}
	if err := s.Add(t.Context(), "test", staff.Account{Username: "wangli", DisplayName: "王丽", Role: staff.RoleReviewer}, "Qiqihar-desk-2026"); err != nil {
		t.Fatal(err)
	}
	return s
}

func count(t *testing.T, s *staff.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAccounts: accounts are checked, unique, audited, and a disabled one
// cannot sign in and loses its sessions.
func TestAccounts(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	if err := s.Add(ctx, "test", staff.Account{Username: "wangli", DisplayName: "王丽", Role: staff.RoleReviewer}, "Qiqihar-desk-2026"); !errors.Is(err, staff.ErrExists) {
		t.Errorf("second wangli: %v, want ErrExists", err)
	}
	if err := s.Add(ctx, "test", staff.Account{Username: "Li", DisplayName: "李", Role: "boss"}, "Qiqihar-desk-2026"); !errors.Is(err, staff.ErrInvalid) {
		t.Errorf("bad account: %v, want ErrInvalid", err)
	}
	if a, err := s.Authenticate(ctx, " WangLi ", "Qiqihar-desk-2026"); err != nil || a.DisplayName != "王丽" {
		t.Errorf("sign in: %+v, %v", a, err)
	}
	for _, wrong := range [][2]string{{"wangli", "wrong-password-1"}, {"nobody", "Qiqihar-desk-2026"}} {
		if _, err := s.Authenticate(ctx, wrong[0], wrong[1]); !errors.Is(err, staff.ErrUnauthenticated) {
			t.Errorf("sign in as %s: %v, want ErrUnauthenticated", wrong[0], err)
		}
	}
	ss := staff.Session{IDHash: []byte("hash-of-a-session-id-32-bytes!!!"), Username: "wangli", Role: staff.RoleReviewer, CSRF: "t", CreatedAt: at, LastSeenAt: at}
	if err := s.StartSession(ctx, ss, at.Add(-time.Hour), at.Add(-12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if as, err := s.Assignees(ctx); err != nil || len(as) != 1 {
		t.Errorf("assignees %+v, %v", as, err)
	}
	if err := s.Disable(ctx, "cli", "wangli"); err != nil {
		t.Fatal(err)
	}
	if err := s.Disable(ctx, "cli", "nobody"); !errors.Is(err, staff.ErrNoSuchAccount) {
		t.Errorf("disable nobody: %v, want ErrNoSuchAccount", err)
	}
	if _, err := s.Authenticate(ctx, "wangli", "Qiqihar-desk-2026"); !errors.Is(err, staff.ErrUnauthenticated) {
		t.Errorf("disabled sign in: %v", err)
	}
	if _, err := s.Session(ctx, ss.IDHash); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("session of a disabled account: %v, want ErrNoSession", err)
	}
	if as, err := s.Assignees(ctx); err != nil || len(as) != 0 {
		t.Errorf("assignees after disabling: %+v, %v", as, err)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE action IN ('staff.add', 'staff.disable', 'staff.signin') AND at = $1`, at); n != 3 {
		t.Errorf("%d account records audited, want add, sign-in and disable", n)
	}
}

// TestSessions: a session is stored with its sign-in audited, swept when
// the user signs in again after it ran out, and signed out with a record.
func TestSessions(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	old := staff.Session{IDHash: []byte("old-session-hash-0123456789abcde"), Username: "wangli", Role: staff.RoleReviewer, CSRF: "a", CreatedAt: at.Add(-13 * time.Hour)}
	if err := s.StartSession(ctx, old, old.CreatedAt.Add(-time.Hour), old.CreatedAt.Add(-12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	cur := staff.Session{IDHash: []byte("new-session-hash-0123456789abcde"), Username: "wangli", Role: staff.RoleReviewer, CSRF: "b", CreatedAt: at}
	if err := s.StartSession(ctx, cur, at.Add(-time.Hour), at.Add(-12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, old.IDHash); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("the run-out session after a new sign-in: %v, want it swept", err)
	}
	got, err := s.Session(ctx, cur.IDHash)
	if err != nil || got.Username != "wangli" || got.DisplayName != "王丽" || got.CSRF != "b" || got.Disabled {
		t.Fatalf("session %+v, %v", got, err)
	}
	if err := s.TouchSession(ctx, cur.IDHash, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, cur.IDHash); !got.LastSeenAt.Equal(at.Add(time.Minute)) {
		t.Errorf("touched at %s", got.LastSeenAt)
	}
	if err := s.SignOut(ctx, got, at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, cur.IDHash); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("after sign-out: %v", err)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE actor = 'staff:wangli' AND action IN ('staff.signin', 'staff.signout')`); n != 3 {
		t.Errorf("%d sign-ins and sign-outs audited, want 3", n)
	}
}

// TestCostIsTheStoresAndSignInReadsTheHash: a store with its own cost
// hashes new passwords at that cost, and a store at the default cost still
// signs that account in, since verification reads the cost from the hash.
func TestCostIsTheStoresAndSignInReadsTheHash(t *testing.T) {
	t.Parallel()
	cheap := &staff.Store{DB: pgtest.Open(t), Now: func() time.Time { return at }, Cost: staff.Cost{MemoryKiB: 8 * 1024, Passes: 1, Lanes: 1}}
	if err := cheap.Add(t.Context(), "test", staff.Account{Username: "liuyang", DisplayName: "刘洋", Role: staff.RoleReviewer}, "Qiqihar-desk-2026"); err != nil {
		t.Fatal(err)
	}
	var hash string
	if err := cheap.DB.Get(&hash, `SELECT password_hash FROM staff WHERE username = 'liuyang'`); err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=8192,t=1,p=1$"; len(hash) < len(want) || hash[:len(want)] != want {
		t.Errorf("hash %q, want the store's cost %s", hash, want)
	}
	production := staff.NewStore(cheap.DB)
	if a, err := production.Authenticate(t.Context(), "liuyang", "Qiqihar-desk-2026"); err != nil || a.Username != "liuyang" {
		t.Errorf("sign in at the default cost: %+v, %v", a, err)
	}
}
