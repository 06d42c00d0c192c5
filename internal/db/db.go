// Package db opens the PostgreSQL database and brings its schema up to date.
// Migrations are numbered .sql files embedded in the binary; each runs in its
// own transaction and the whole run holds an advisory lock, so several nodes
// starting together apply each migration exactly once.
package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the advisory lock held while migrating ("mortgage" in ASCII).
const migrationLockKey = 0x6d6f7274676167

// Timeouts bound what one session may hold: a statement that runs away, or
// a transaction left open by a stalled caller, would otherwise keep locks
// (a unit's, a reference's) and a pool connection for ever. Zero disables
// one.
type Timeouts struct {
	Statement         time.Duration // statement_timeout
	IdleInTransaction time.Duration // idle_in_transaction_session_timeout
}

// DefaultTimeouts are the pool's timeouts unless configured.
var DefaultTimeouts = Timeouts{Statement: 30 * time.Second, IdleInTransaction: 60 * time.Second}

// Open connects to url with DefaultTimeouts and checks the connection.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	return OpenWith(ctx, url, DefaultTimeouts)
}

// OpenWith connects to url, every session with timeouts t, and checks the
// connection.
func OpenWith(ctx context.Context, url string, t Timeouts) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Run-time parameters of the startup message: every connection the
	// pool opens, including after an outage, starts with them.
	rt := maps.Clone(cfg.Runtime)
	if rt == nil {
		rt = map[string]string{}
	}
	rt["statement_timeout"] = strconv.FormatInt(t.Statement.Milliseconds(), 10)
	rt["idle_in_transaction_session_timeout"] = strconv.FormatInt(t.IdleInTransaction.Milliseconds(), 10)
	cfg.Runtime = rt
	conn, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	d := sqlx.NewDb(sql.OpenDB(connector{conn}), "postgres")
	d.SetMaxOpenConns(40)
	d.SetMaxIdleConns(40)
	d.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pingCtx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return d, nil
}

// Migration is one embedded schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q: name must start with a number and an underscore", name)
		}
		body, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// Migrate applies every migration not yet applied and returns how many it applied.
func Migrate(ctx context.Context, d *sqlx.DB, log *slog.Logger) (int, error) {
	ms, err := Migrations()
	if err != nil {
		return 0, err
	}
	// A session-level advisory lock belongs to one connection: pin it.
	conn, err := d.Connx(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// Waiting for another node's migrations, or one long migration, is no
	// runaway statement: lift the pool's statement_timeout for this session.
	if _, err := conn.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `RESET statement_timeout`)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return 0, fmt.Errorf("take migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	var versions []int
	if err := conn.SelectContext(ctx, &versions, `SELECT version FROM schema_migrations`); err != nil {
		return 0, err
	}
	for _, v := range versions {
		applied[v] = true
	}
	n := 0
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if err := apply(ctx, conn, m); err != nil {
			return n, err
		}
		if log != nil {
			log.Info("migration applied", "version", m.Version, "name", m.Name)
		}
		n++
	}
	return n, nil
}

func apply(ctx context.Context, conn *sqlx.Conn, m Migration) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	return tx.Commit()
}
