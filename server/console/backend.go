package console

import (
	"context"
	"time"

	"mortgaged/internal/staff"
	"mortgaged/mortgage"
	"mortgaged/mortgage/calendar"
	"mortgaged/sync/outbox"
)

// The console keeps no data of its own: it renders what these interfaces
// read and asks them to make every change. Each change checks its input and
// writes its audit record itself; the console checks only the session, the
// CSRF token and the officer's role first.

// Backend is what the console is built on; cmd wires the real ones.
type Backend struct {
	Desk        Desk        // decides bundles: MortgageDesk
	Register    Register    // read models and settings: *mortgage.Service
	Staff       Accounts    // accounts and sessions: *staff.Store
	DeadLetters DeadLetters // the push's dead letters: outbox.DeadLetterStore
}

// Register is the domain's side of the console's pages.
type Register interface {
	Queue(ctx context.Context, f mortgage.QueueFilter, now time.Time) (*mortgage.Queue, error)
	PartnerNames(ctx context.Context) ([]mortgage.PartnerName, error)
	// BundlePage returns an error that wraps mortgage.ErrNotFound for no such bundle.
	BundlePage(ctx context.Context, id string, today time.Time) (*mortgage.BundlePage, error)
	// MaterialFile returns an error that wraps mortgage.ErrNotFound for no such document.
	MaterialFile(ctx context.Context, bundleID string, seq int) (*mortgage.MaterialFile, error)
	BundleOutcome(ctx context.Context, id string) (status, decidedBy string, err error)
	Promises(ctx context.Context, today time.Time, fulfilled bool) (*mortgage.PromiseList, error)
	Dashboard(ctx context.Context, today, from, end time.Time, loc *time.Location) (*mortgage.Dashboard, error)

	RoutingRuleRows(ctx context.Context) ([]mortgage.RoutingRuleRow, error)
	// UpdateRoutingRule returns a *mortgage.ValidationError for parameters
	// that do not decode, and mortgage.ErrNotFound for an unknown rule.
	UpdateRoutingRule(ctx context.Context, kind string, enabled bool, params []byte, by mortgage.Officer) error
	CalendarYears(ctx context.Context) ([]mortgage.CalendarYearRow, error)
	// LoadCalendarYear returns a *mortgage.ValidationError for a notice
	// that does not pass, its message in Chinese.
	LoadCalendarYear(ctx context.Context, notice []byte, by mortgage.Officer) (y calendar.Year, replaced bool, err error)
	// CalendarYearMissing is next year from 1 December while its holiday
	// notice is not loaded, else 0 (supervisors see a banner).
	CalendarYearMissing(ctx context.Context) (int, error)
}

// Accounts are the staff's accounts and console sessions.
type Accounts interface {
	// Authenticate returns staff.ErrUnauthenticated for any wrong username,
	// password or disabled account.
	Authenticate(ctx context.Context, username, password string) (staff.Account, error)
	Assignees(ctx context.Context) ([]staff.Account, error)
	// StartSession stores the session and audits the sign-in; sessions of
	// the user idle since idleSince or begun before bornSince are swept.
	StartSession(ctx context.Context, s staff.Session, idleSince, bornSince time.Time) error
	// Session returns staff.ErrNoSession for a session that is not stored.
	Session(ctx context.Context, idHash []byte) (staff.Session, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	EndSession(ctx context.Context, idHash []byte) error
	SignOut(ctx context.Context, s staff.Session, at time.Time) error
	// ThrottleCleared audits a supervisor clearing a sign-in throttle.
	ThrottleCleared(ctx context.Context, by, kind, username, addr string, at time.Time) error
}

// DeadLetters are the events the push gave up on.
type DeadLetters interface {
	List(ctx context.Context, partnerID string, limit int) ([]outbox.DeadLetter, error)
	// Redeliver returns outbox.ErrNotFound or outbox.ErrNotDead when it cannot.
	Redeliver(ctx context.Context, id, actor string, at time.Time) error
}

// Role is what a member of staff may do in the console (staff.Role).
type Role = staff.Role

// Staff is a member of staff with a console account (staff.Account).
type Staff = staff.Account

// Roles.
const (
	RoleReviewer   = staff.RoleReviewer
	RoleSupervisor = staff.RoleSupervisor
	RoleAuditor    = staff.RoleAuditor
)
