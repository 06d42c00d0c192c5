package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"
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
func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, st Staff) (*session, error) {
	id := randomToken()
	now := c.now()
	s := &session{idHash: hashSessionID(id), Username: st.Username, DisplayName: st.DisplayName, Role: st.Role,
		CSRF: randomToken(), createdAt: now, lastSeenAt: now}
	// Sweep this user's dead sessions while we are here.
	if _, err := c.db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE username = $1 AND (last_seen_at < $2 OR created_at < $3)`,
		st.Username, now.Add(-c.cfg.IdleTimeout), now.Add(-c.cfg.MaxLifetime)); err != nil {
		return nil, fmt.Errorf("sweep sessions: %w", err)
	}
	if _, err := c.db.ExecContext(ctx, `INSERT INTO staff_sessions (id_hash, username, csrf_token, created_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $4)`, s.idHash, s.Username, s.CSRF, now); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
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
	s := &session{idHash: hashSessionID(ck.Value)}
	var disabled bool
	err = c.db.QueryRowContext(ctx, `SELECT s.username, s.csrf_token, s.created_at, s.last_seen_at, st.display_name, st.role, st.disabled
		FROM staff_sessions s JOIN staff st USING (username) WHERE s.id_hash = $1`, s.idHash).
		Scan(&s.Username, &s.CSRF, &s.createdAt, &s.lastSeenAt, &s.DisplayName, &s.Role, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	now := c.now()
	if disabled || now.Sub(s.lastSeenAt) > c.cfg.IdleTimeout || now.Sub(s.createdAt) > c.cfg.MaxLifetime {
		if _, err := c.db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id_hash = $1`, s.idHash); err != nil {
			return nil, fmt.Errorf("end session: %w", err)
		}
		return nil, nil
	}
	if now.Sub(s.lastSeenAt) >= touchEvery {
		if _, err := c.db.ExecContext(ctx, `UPDATE staff_sessions SET last_seen_at = $2 WHERE id_hash = $1`, s.idHash, now); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
		s.lastSeenAt = now
	}
	return s, nil
}

// endSession deletes the session and clears its cookie.
func (c *Console) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request, s *session) error {
	if _, err := c.db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id_hash = $1`, s.idHash); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, "", "/console", -1))
	return nil
}
