package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"mortgaged/internal/staff"
)

// Cookie names. Both are HttpOnly, SameSite=Strict and scoped to /console.
const (
	sessionCookie = "mgd_session"
	signinCookie  = "mgd_signin" // CSRF token of the sign-in form, before there is a session
	flashCookie   = "mgd_flash"
	csrfField     = "csrf"
)

// session is a signed-in member of staff.
type session struct {
	idHash      []byte
	Username    string
	DisplayName string
	Role        Role
	CSRF        string // the token every form carries
	createdAt   time.Time
	lastSeenAt  time.Time
}

// Officer is the session's staff member as the desk records them.
func (s *session) Officer() Officer {
	return Officer{Username: s.Username, DisplayName: s.DisplayName, Role: s.Role}
}

// randomToken is 256 random bits, base64url.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashSessionID is what is stored for a session: a database reader cannot
// turn it back into a cookie.
func hashSessionID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// tokensEqual compares two tokens in constant time; an empty one never matches.
func tokensEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (c *Console) cookie(r *http.Request, name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		Secure:   c.cfg.SecureCookies || r.TLS != nil,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	}
}

// startSession records a new session for the staff member and sets its cookie.
// The sign-in is audited with it.
func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, st Staff) (*session, error) {
	id := randomToken()
	now := c.now()
	s := &session{idHash: hashSessionID(id), Username: st.Username, DisplayName: st.DisplayName, Role: st.Role,
		CSRF: randomToken(), createdAt: now, lastSeenAt: now}
	// Sweep this user's dead sessions while we are here.
	if err := c.staff.StartSession(ctx, s.stored(), now.Add(-c.cfg.IdleTimeout), now.Add(-c.cfg.MaxLifetime)); err != nil {
		return nil, err
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, id, "/console", 0))
	return s, nil
}

// touchEvery limits last_seen_at writes to one a minute per session.
const touchEvery = time.Minute

// loadSession finds the request's live session, or nil. An idle or expired
// session, or one of a disabled account, is deleted.
func (c *Console) loadSession(ctx context.Context, r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 64 {
		return nil, nil
	}
	st, err := c.staff.Session(ctx, hashSessionID(ck.Value))
	if errors.Is(err, staff.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := &session{idHash: st.IDHash, Username: st.Username, DisplayName: st.DisplayName, Role: st.Role,
		CSRF: st.CSRF, createdAt: st.CreatedAt, lastSeenAt: st.LastSeenAt}
	now := c.now()
	if st.Disabled || now.Sub(s.lastSeenAt) > c.cfg.IdleTimeout || now.Sub(s.createdAt) > c.cfg.MaxLifetime {
		if err := c.staff.EndSession(ctx, s.idHash); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if now.Sub(s.lastSeenAt) >= touchEvery {
		if err := c.staff.TouchSession(ctx, s.idHash, now); err != nil {
			return nil, err
		}
		s.lastSeenAt = now
	}
	return s, nil
}

// signOut ends the session, audited, and clears its cookie.
func (c *Console) signOut(ctx context.Context, w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.staff.SignOut(ctx, s.stored(), c.now()); err != nil {
		return err
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, "", "/console", -1))
	return nil
}

// stored is the session as the staff store keeps it.
func (s *session) stored() staff.Session {
	return staff.Session{IDHash: s.idHash, Username: s.Username, DisplayName: s.DisplayName, Role: s.Role,
		CSRF: s.CSRF, CreatedAt: s.createdAt, LastSeenAt: s.lastSeenAt}
}
