package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
)

// Session is a signed-in member of staff as stored: the console keeps the
// cookie, the store only the hash of its id, so a database reader cannot
// turn a row back into a cookie.
type Session struct {
	IDHash      []byte
	Username    string
	DisplayName string
	Role        Role
	Disabled    bool   // the account was disabled since
	CSRF        string // the token every form carries
	CreatedAt   time.Time
	LastSeenAt  time.Time
}

// ErrNoSession is returned for a session id that is not stored.
var ErrNoSession = errors.New("no such session")

// StartSession records a new session, sweeping the user's sessions idle
// since idleSince or begun before bornSince, and records the sign-in in
// the audit trail, in one transaction.
func (s *Store) StartSession(ctx context.Context, ss Session, idleSince, bornSince time.Time) error {
	return db.WithTx(ctx, s.DB, nil, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE username = $1 AND (last_seen_at < $2 OR created_at < $3)`,
			ss.Username, idleSince, bornSince); err != nil {
			return fmt.Errorf("sweep sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_sessions (id_hash, username, csrf_token, created_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $4)`, ss.IDHash, ss.Username, ss.CSRF, ss.CreatedAt); err != nil {
			return fmt.Errorf("start session: %w", err)
		}
		return db.Audit(ctx, tx, db.AuditEntry{At: ss.CreatedAt, Actor: Actor(ss.Username), Action: "staff.signin",
			Subject: ss.Username, Detail: map[string]any{"role": ss.Role}})
	})
}

// Session reads a stored session with its account, or ErrNoSession.
func (s *Store) Session(ctx context.Context, idHash []byte) (Session, error) {
	ss := Session{IDHash: idHash}
	err := s.DB.QueryRowContext(ctx, `SELECT s.username, s.csrf_token, s.created_at, s.last_seen_at, st.display_name, st.role, st.disabled
		FROM staff_sessions s JOIN staff st USING (username) WHERE s.id_hash = $1`, idHash).
		Scan(&ss.Username, &ss.CSRF, &ss.CreatedAt, &ss.LastSeenAt, &ss.DisplayName, &ss.Role, &ss.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, ErrNoSession
	}
	if err != nil {
		return ss, fmt.Errorf("load session: %w", err)
	}
	return ss, nil
}

// TouchSession records that the session was used at.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	if _, err := s.DB.ExecContext(ctx, `UPDATE staff_sessions SET last_seen_at = $2 WHERE id_hash = $1`, idHash, at); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// EndSession deletes a session that ran out.
func (s *Store) EndSession(ctx context.Context, idHash []byte) error {
	if _, err := s.DB.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SignOut ends the session its user chose to end and records it in the
// audit trail, in one transaction.
func (s *Store) SignOut(ctx context.Context, ss Session, at time.Time) error {
	return db.WithTx(ctx, s.DB, nil, func(tx *sqlx.Tx) error {
		if err := db.Audit(ctx, tx, db.AuditEntry{At: at, Actor: Actor(ss.Username), Action: "staff.signout", Subject: ss.Username}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id_hash = $1`, ss.IDHash); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return nil
	})
}

// ThrottleCleared records in the audit trail that a supervisor let a
// slowed sign-in through at once (the console clears the throttle only
// after this succeeds): kind is "addr" or "user", the subject the address.
func (s *Store) ThrottleCleared(ctx context.Context, by, kind, username, addr string, at time.Time) error {
	return db.Audit(ctx, s.DB, db.AuditEntry{At: at, Actor: Actor(by), Action: "signin.throttle_cleared", Subject: addr,
		Detail: map[string]any{"kind": kind, "username": username}})
}
