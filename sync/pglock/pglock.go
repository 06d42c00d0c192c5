// Package pglock is gocron's distributed locker backed by PostgreSQL
// session advisory locks, so a scheduled job runs on one node at a time
// however many nodes share the database.
//
// A session lock belongs to one connection, so each lock pins a *sql.Conn
// from the pool until it is unlocked; a node that dies drops its connection
// and PostgreSQL releases its locks at once. A lock is no fencing token: a
// connection can be lost while its job still runs, so jobs must stay correct
// when two nodes overlap for a moment (the push claims work with
// FOR UPDATE SKIP LOCKED and records results only for its own claims).
package pglock

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// Errors a Locker returns.
var (
	// ErrHeld means another session holds the lock: the job is skipped this time.
	ErrHeld = errors.New("pglock: held by another node")
	// ErrLost means the lock was gone when it was released: its connection
	// broke while the job ran, so another node may have run it too.
	ErrLost = errors.New("pglock: lock lost before unlock")
)

// DefaultMaxHeld bounds the connections pinned by locks at once, so jobs
// can never take the whole pool from the work they do.
const DefaultMaxHeld = 8

// unlockTimeout bounds the unlock, which runs on a context that shutdown
// cannot cancel.
const unlockTimeout = 10 * time.Second

// Locker takes session advisory locks named by gocron job names.
type Locker struct {
	db   *sql.DB
	held chan struct{}
	log  *slog.Logger
}

// New makes a locker on db that pins at most maxHeld connections (0: DefaultMaxHeld).
func New(db *sql.DB, maxHeld int, log *slog.Logger) *Locker {
	if maxHeld <= 0 {
		maxHeld = DefaultMaxHeld
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Locker{db: db, held: make(chan struct{}, maxHeld), log: log}
}

// Key maps a lock name to the 64-bit advisory lock key, in a namespace of
// its own so it cannot meet another part of the system's locks.
func Key(name string) int64 {
	sum := sha256.Sum256([]byte("mortgaged/gocron/" + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

var _ gocron.Locker = (*Locker)(nil)

// Lock tries the lock once: it returns ErrHeld at once if another node has it.
func (l *Locker) Lock(ctx context.Context, name string) (gocron.Lock, error) {
	select {
	case l.held <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	conn, err := l.db.Conn(ctx)
	if err != nil {
		<-l.held
		return nil, fmt.Errorf("pglock: %w", err)
	}
	key := Key(name)
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		discard(conn)
		<-l.held
		return nil, fmt.Errorf("pglock: lock %s: %w", name, err)
	}
	if !ok {
		conn.Close()
		<-l.held
		return nil, ErrHeld
	}
	return &lock{l: l, conn: conn, name: name, key: key}, nil
}

type lock struct {
	l    *Locker
	conn *sql.Conn
	name string
	key  int64
}

// Unlock releases the lock on its own connection. It runs even when ctx is
// cancelled (shutdown): a lock left behind on a pooled connection would
// block the job on every node until that connection closed.
func (k *lock) Unlock(ctx context.Context) error {
	defer func() { <-k.l.held }()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
	defer cancel()
	var ok bool
	if err := k.conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, k.key).Scan(&ok); err != nil {
		// Closing the session is what releases the lock now.
		discard(k.conn)
		k.l.log.Warn("advisory unlock failed; connection discarded", slog.String("lock", k.name), slog.Any("error", err))
		return fmt.Errorf("pglock: unlock %s: %w", k.name, err)
	}
	k.conn.Close()
	if !ok {
		k.l.log.Warn("advisory lock was lost while the job ran; another node may have run it too", slog.String("lock", k.name))
		return ErrLost
	}
	return nil
}

// discard closes conn and keeps its session out of the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
