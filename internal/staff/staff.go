// Package staff holds the registration centre's console accounts and their
// sessions: who may sign in, with which role, and which sessions are live.
//
// It is its own package rather than part of mortgage because accounts are
// the centre's access control, not registration rules: the domain only
// sees the officer who acts (mortgage.Officer), and the console and the
// `staff` admin commands are the only users of this package.
package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"mortgaged/internal/db"
)

// Role is what a member of staff may do in the console.
type Role string

// Roles. A supervisor may do everything a reviewer may; an auditor only reads.
const (
	RoleReviewer   Role = "reviewer"   // decides bundles at the desk
	RoleSupervisor Role = "supervisor" // also reassigns, manages the calendar and routing rules, redelivers
	RoleAuditor    Role = "auditor"    // reads everything, changes nothing
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleReviewer || r == RoleSupervisor || r == RoleAuditor }

// Label is the role's Chinese name.
func (r Role) Label() string {
	switch r {
	case RoleReviewer:
		return "审核员"
	case RoleSupervisor:
		return "主管"
	case RoleAuditor:
		return "审计员"
	}
	return string(r)
}

// CanDecide reports whether the role may approve and refuse bundles.
func (r Role) CanDecide() bool { return r == RoleReviewer || r == RoleSupervisor }

// CanSupervise reports whether the role may reassign bundles, manage the
// calendar and routing rules and redeliver dead letters.
func (r Role) CanSupervise() bool { return r == RoleSupervisor }

// Account is a member of the centre's staff with a console account.
type Account struct {
	Username    string    `db:"username"`
	DisplayName string    `db:"display_name"` // recorded as 登簿人 when they approve
	Role        Role      `db:"role"`
	Disabled    bool      `db:"disabled"`
	CreatedAt   time.Time `db:"created_at"`
}

// Actor is how the audit trail names a member of staff, as the domain does.
func Actor(username string) string { return "staff:" + username }

// Errors.
var (
	ErrExists          = errors.New("staff username already taken")
	ErrNoSuchAccount   = errors.New("no such staff account")
	ErrInvalid         = errors.New("invalid staff account")
	ErrUnauthenticated = errors.New("wrong username or password")
)

// Store keeps accounts and sessions in the database.
type Store struct {
	DB *sqlx.DB
	// Now is the clock of the audit records; nil means time.Now.
	Now func() time.Time
	// Cost is what Add hashes new passwords with; zero means the
	// production cost (passwordParams).
	Cost Cost
}

// NewStore makes a store with the real clock. It makes the dummy password
// hash now, so the first sign-in of an unknown user does not pay for it.
func NewStore(d *sqlx.DB) *Store {
	dummyHash()
	return &Store{DB: d, Now: time.Now}
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// Add creates an account. actor is who does it, for the audit trail (the
// CLI passes "cli").
func (s *Store) Add(ctx context.Context, actor string, a Account, password string) error {
	a.DisplayName = strings.TrimSpace(a.DisplayName)
	switch {
	case !usernameRE.MatchString(a.Username):
		return fmt.Errorf("%w: username must be 2-32 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", ErrInvalid)
	case a.DisplayName == "" || utf8.RuneCountInString(a.DisplayName) > 32:
		return fmt.Errorf("%w: name must be 1-32 characters", ErrInvalid)
	case !a.Role.Valid():
		return fmt.Errorf("%w: role must be reviewer, supervisor or auditor", ErrInvalid)
	}
	hash, err := s.Cost.hash(password)
	if err != nil {
		return err
	}
	return db.WithTx(ctx, s.DB, nil, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff (username, display_name, role, password_hash) VALUES ($1, $2, $3, $4)`,
			a.Username, a.DisplayName, a.Role, hash); err != nil {
			var pqErr *pq.Error
			if errors.As(err, &pqErr) && pqErr.Code == "23505" {
				return fmt.Errorf("%w: %s", ErrExists, a.Username)
			}
			return fmt.Errorf("add staff %s: %w", a.Username, err)
		}
		return db.Audit(ctx, tx, db.AuditEntry{At: s.now(), Actor: actor, Action: "staff.add", Subject: a.Username,
			Detail: map[string]any{"role": a.Role, "displayName": a.DisplayName}})
	})
}

// List returns every account, by username.
func (s *Store) List(ctx context.Context) ([]Account, error) {
	var as []Account
	if err := s.DB.SelectContext(ctx, &as, `SELECT username, display_name, role, disabled, created_at FROM staff ORDER BY username`); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return as, nil
}

// Assignees are the accounts a bundle may be handed to: reviewers and
// supervisors who may still sign in, by name.
func (s *Store) Assignees(ctx context.Context) ([]Account, error) {
	var as []Account
	if err := s.DB.SelectContext(ctx, &as, `SELECT username, display_name, role, disabled, created_at FROM staff
		WHERE NOT disabled AND role IN ('reviewer', 'supervisor') ORDER BY display_name`); err != nil {
		return nil, fmt.Errorf("assignees: %w", err)
	}
	return as, nil
}

// Disable stops an account from signing in and ends its sessions.
func (s *Store) Disable(ctx context.Context, actor, username string) error {
	return db.WithTx(ctx, s.DB, nil, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET disabled = true WHERE username = $1`, username)
		if err != nil {
			return fmt.Errorf("disable staff %s: %w", username, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrNoSuchAccount, username)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE username = $1`, username); err != nil {
			return fmt.Errorf("end sessions of %s: %w", username, err)
		}
		return db.Audit(ctx, tx, db.AuditEntry{At: s.now(), Actor: actor, Action: "staff.disable", Subject: username})
	})
}

// Authenticate checks a username and password. Every failure is
// ErrUnauthenticated, after the same amount of hashing work.
func (s *Store) Authenticate(ctx context.Context, username, password string) (Account, error) {
	var row struct {
		Account
		Hash string `db:"password_hash"`
	}
	err := s.DB.GetContext(ctx, &row, `SELECT username, display_name, role, disabled, created_at, password_hash
		FROM staff WHERE username = $1`, strings.ToLower(strings.TrimSpace(username)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		row.Hash, row.Disabled = dummyHash(), true
	case err != nil:
		return Account{}, fmt.Errorf("look up staff: %w", err)
	}
	ok, err := CheckPassword(row.Hash, password)
	if err != nil {
		return Account{}, fmt.Errorf("staff %s: %w", row.Username, err)
	}
	if !ok || row.Disabled {
		return Account{}, ErrUnauthenticated
	}
	return row.Account, nil
}
