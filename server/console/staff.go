package console

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
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

// Staff is a member of the centre's staff with a console account.
type Staff struct {
	Username    string    `db:"username"`
	DisplayName string    `db:"display_name"` // recorded as 登簿人 when they approve
	Role        Role      `db:"role"`
	Disabled    bool      `db:"disabled"`
	CreatedAt   time.Time `db:"created_at"`
}

// Staff errors.
var (
	ErrStaffExists     = errors.New("staff username already taken")
	ErrNoSuchStaff     = errors.New("no such staff account")
	ErrInvalidStaff    = errors.New("invalid staff account")
	errUnauthenticated = errors.New("wrong username or password")
)

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// AddStaff creates an account. actor is who does it, for the audit trail
// (the CLI passes "cli").
func AddStaff(ctx context.Context, db *sqlx.DB, actor string, s Staff, password string) error {
	s.DisplayName = strings.TrimSpace(s.DisplayName)
	switch {
	case !usernameRE.MatchString(s.Username):
		return fmt.Errorf("%w: username must be 2-32 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", ErrInvalidStaff)
	case s.DisplayName == "" || utf8.RuneCountInString(s.DisplayName) > 32:
		return fmt.Errorf("%w: name must be 1-32 characters", ErrInvalidStaff)
	case !s.Role.Valid():
		return fmt.Errorf("%w: role must be reviewer, supervisor or auditor", ErrInvalidStaff)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return inTx(ctx, db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff (username, display_name, role, password_hash) VALUES ($1, $2, $3, $4)`,
			s.Username, s.DisplayName, s.Role, hash); err != nil {
			var pqErr *pq.Error
			if errors.As(err, &pqErr) && pqErr.Code == "23505" {
				return fmt.Errorf("%w: %s", ErrStaffExists, s.Username)
			}
			return fmt.Errorf("add staff %s: %w", s.Username, err)
		}
		return audit(ctx, tx, time.Now(), actor, "staff.add", s.Username, map[string]any{"role": s.Role, "displayName": s.DisplayName})
	})
}

// ListStaff returns every account, by username.
func ListStaff(ctx context.Context, db sqlx.QueryerContext) ([]Staff, error) {
	var ss []Staff
	if err := sqlx.SelectContext(ctx, db, &ss, `SELECT username, display_name, role, disabled, created_at FROM staff ORDER BY username`); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return ss, nil
}

// DisableStaff stops an account from signing in and ends its sessions.
func DisableStaff(ctx context.Context, db *sqlx.DB, actor, username string) error {
	return inTx(ctx, db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET disabled = true WHERE username = $1`, username)
		if err != nil {
			return fmt.Errorf("disable staff %s: %w", username, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrNoSuchStaff, username)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE username = $1`, username); err != nil {
			return fmt.Errorf("end sessions of %s: %w", username, err)
		}
		return audit(ctx, tx, time.Now(), actor, "staff.disable", username, nil)
	})
}

// authenticate checks a username and password. Every failure is the same
// error, after the same amount of hashing work.
func authenticate(ctx context.Context, db sqlx.QueryerContext, username, password string) (Staff, error) {
	var row struct {
		Staff
		Hash string `db:"password_hash"`
	}
	err := sqlx.GetContext(ctx, db, &row, `SELECT username, display_name, role, disabled, created_at, password_hash
		FROM staff WHERE username = $1`, strings.ToLower(strings.TrimSpace(username)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		row.Hash, row.Disabled = dummyHash(), true
	case err != nil:
		return Staff{}, fmt.Errorf("look up staff: %w", err)
	}
	ok, err := CheckPassword(row.Hash, password)
	if err != nil {
		return Staff{}, fmt.Errorf("staff %s: %w", row.Username, err)
	}
	if !ok || row.Disabled {
		return Staff{}, errUnauthenticated
	}
	return row.Staff, nil
}

// audit appends a row to the audit trail in the caller's transaction.
func audit(ctx context.Context, tx sqlx.ExecerContext, at time.Time, actor, action, subject string, detail any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit detail: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)`,
		at, actor, action, subject, b); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// inTx runs f in a transaction and commits if f succeeds. A request that
// goes away cancels ctx, which rolls the transaction back.
func inTx(ctx context.Context, db *sqlx.DB, f func(*sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
