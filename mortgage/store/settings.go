package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
)

// The centre's settings: routing rules and the holiday calendar's years.

// RoutingRuleRow is a routing rule as stored.
type RoutingRuleRow struct {
	Kind      string    `db:"kind"`
	Enabled   bool      `db:"enabled"`
	Params    []byte    `db:"params"`
	UpdatedBy string    `db:"updated_by"`
	UpdatedAt time.Time `db:"updated_at"`
}

// RoutingRules lists the routing rules by kind.
func (s *Store) RoutingRules(ctx context.Context) ([]RoutingRuleRow, error) {
	var rows []RoutingRuleRow
	err := s.DB.SelectContext(ctx, &rows, `SELECT kind, enabled, params, updated_by, updated_at FROM routing_rules ORDER BY kind`)
	return rows, err
}

// RoutingRuleSetting is a rule as routing reads it.
type RoutingRuleSetting struct {
	Kind    string `db:"kind"`
	Enabled bool   `db:"enabled"`
	Params  []byte `db:"params"`
}

// RoutingRuleSettings reads every rule's switch and parameters.
func (s *Store) RoutingRuleSettings(ctx context.Context) ([]RoutingRuleSetting, error) {
	var rows []RoutingRuleSetting
	err := s.DB.SelectContext(ctx, &rows, `SELECT kind, enabled, params FROM routing_rules`)
	return rows, err
}

// CalendarNotices reads the loaded years' holiday notices, by year.
func (s *Store) CalendarNotices(ctx context.Context) ([][]byte, error) {
	var years [][]byte
	err := s.DB.SelectContext(ctx, &years, `SELECT notice FROM calendar_years ORDER BY year`)
	return years, err
}

// CalendarYearRow is a year's holiday notice as loaded.
type CalendarYearRow struct {
	Year     int       `db:"year"`
	Notice   []byte    `db:"notice"`
	LoadedBy string    `db:"loaded_by"`
	LoadedAt time.Time `db:"loaded_at"`
}

// CalendarYears lists the loaded years by year.
func (s *Store) CalendarYears(ctx context.Context) ([]CalendarYearRow, error) {
	var rows []CalendarYearRow
	err := s.DB.SelectContext(ctx, &rows, `SELECT year, notice, loaded_by, loaded_at FROM calendar_years ORDER BY year`)
	return rows, err
}

// SettingsTx is a transaction that changes the settings.
type SettingsTx struct{ tx *sqlx.Tx }

// InSettingsTx runs fn in a transaction (db.WithTx), unprepared: settings
// change seldom.
func (s *Store) InSettingsTx(ctx context.Context, fn func(*SettingsTx) error) error {
	return db.WithTx(ctx, s.DB, nil, func(tx *sqlx.Tx) error { return fn(&SettingsTx{tx}) })
}

// LockRoutingRule reads and locks a rule; ErrNoRows if there is none.
func (t *SettingsTx) LockRoutingRule(ctx context.Context, kind string) (RoutingRuleRow, error) {
	var r RoutingRuleRow
	err := t.tx.GetContext(ctx, &r, `SELECT kind, enabled, params, updated_by, updated_at FROM routing_rules WHERE kind = $1 FOR UPDATE`, kind)
	return r, err
}

// UpdateRoutingRule sets a rule's switch and parameters.
func (t *SettingsTx) UpdateRoutingRule(ctx context.Context, kind string, enabled bool, params []byte, by string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE routing_rules SET enabled = $2, params = $3, updated_by = $4, updated_at = $5 WHERE kind = $1`,
		kind, enabled, params, by, at)
	return err
}

// CalendarYearLoaded reports whether a notice of year is loaded.
func (t *SettingsTx) CalendarYearLoaded(ctx context.Context, year int) (bool, error) {
	var loaded bool
	err := t.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM calendar_years WHERE year = $1)`, year).Scan(&loaded)
	return loaded, err
}

// PutCalendarYear stores a year's notice, replacing one of the same year.
func (t *SettingsTx) PutCalendarYear(ctx context.Context, year int, notice []byte, by string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO calendar_years (year, notice, loaded_by, loaded_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (year) DO UPDATE SET notice = EXCLUDED.notice, loaded_by = EXCLUDED.loaded_by, loaded_at = EXCLUDED.loaded_at`,
		year, notice, by, at)
	return err
}

// Audit appends e to the audit trail in the transaction (db.Audit).
func (t *SettingsTx) Audit(ctx context.Context, e db.AuditEntry) error { return db.Audit(ctx, t.tx, e) }
