// Package certkeys keeps the Ed25519 keys that sign electronic registration
// certificates (PROMISES R2).
//
// Keys live in the signing_keys table. The private half is sealed under the
// installation's master key (internal/seal), so a database dump alone signs
// nothing; every node sharing the database must be given the same master key.
// Exactly one key is active at a time; Rotate retires it and makes a new one
// in one transaction. Retired keys keep their public half in the table and in
// the published key list, so certificates signed with them keep verifying.
package certkeys

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
	"mortgaged/internal/seal"
)

// Algorithm is the only signature algorithm in use.
const Algorithm = "Ed25519"

// sealPurpose binds sealed private keys to this use (seal.Sealer).
const sealPurpose = "signing-key"

// rotateLockSpace namespaces the advisory lock that serialises rotations.
const rotateLockSpace = 0x6b6579 // "key"

// PublicKey is a published verification key.
type PublicKey struct {
	ID        string
	Algorithm string
	Key       ed25519.PublicKey
	CreatedAt time.Time
	RetiredAt *time.Time // nil while the key signs
}

// Active reports whether the key is the one that signs new certificates.
func (k PublicKey) Active() bool { return k.RetiredAt == nil }

// Keyring signs with the installation's active key.
//
// A node loads the active key when it opens the keyring; after a rotation on
// another node (or by `mortgaged keys rotate`) it keeps signing with the key
// it has until Refresh (or Watch) picks up the new one. That is safe: the
// retired key stays published, so what it signed keeps verifying.
type Keyring struct {
	db     *sqlx.DB
	sealer *seal.Sealer
	now    func() time.Time

	mu     sync.RWMutex
	id     string
	secret ed25519.PrivateKey
}

// Open loads the active key, creating one if the installation has none.
// Several nodes opening a fresh database together end up with the same key.
func Open(ctx context.Context, db *sqlx.DB, sealer *seal.Sealer) (*Keyring, error) {
	k := &Keyring{db: db, sealer: sealer, now: time.Now}
	if err := k.Refresh(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// KeyID names the key Sign uses, e.g. "k2026-1a2b3c4d".
func (k *Keyring) KeyID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.id
}

// Sign returns the detached Ed25519 signature of msg and the id of the key
// that made it, read together so a concurrent Refresh cannot pair one key's
// id with another key's signature.
func (k *Keyring) Sign(msg []byte) (keyID string, signature []byte) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.id, ed25519.Sign(k.secret, msg)
}

// Refresh loads the active key from the database, creating the first key
// when there is none.
func (k *Keyring) Refresh(ctx context.Context) error {
	for attempt := 0; attempt < 3; attempt++ {
		id, secret, err := k.loadActive(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			// First start. Nodes starting together race here: the unique
			// index on the active key lets one insert win; the others insert
			// nothing and read the winner's key on the next pass.
			if err := k.insertFirst(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		k.mu.Lock()
		k.id, k.secret = id, secret
		k.mu.Unlock()
		return nil
	}
	return errors.New("signing: no active key after creating one (was it retired concurrently?)")
}

// Watch refreshes the active key every interval until ctx ends, so a node
// picks up a rotation made elsewhere. Failures are retried at the next
// tick; a database outage is logged when it starts and when it ends, not
// at every tick.
func (k *Keyring) Watch(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	k.watch(ctx, t.C, log)
}

func (k *Keyring) watch(ctx context.Context, ticks <-chan time.Time, log *slog.Logger) {
	var outage db.Outage
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		before := k.KeyID()
		if err := k.Refresh(ctx); err != nil {
			switch {
			case ctx.Err() != nil:
			case db.IsUnavailable(err):
				if _, started := outage.Down(); started {
					log.Warn("signing key refresh paused: database unavailable", slog.Any("error", err))
				}
			default:
				log.Warn("refresh signing key", slog.Any("error", err))
			}
			continue
		}
		if outage.Up() {
			log.Info("signing key refresh resumed")
		}
		if after := k.KeyID(); after != before {
			log.Info("signing key changed", slog.String("from", before), slog.String("to", after))
		}
	}
}

const (
	activeKeySQL = `SELECT key_id, public_key, private_sealed FROM signing_keys WHERE retired_at IS NULL`
	// No conflict target: the conflict that matters is the partial unique
	// index on the active key (signing_keys_active).
	insertKeySQL = `INSERT INTO signing_keys (key_id, algorithm, public_key, private_sealed, created_at)
		VALUES ($1, 'Ed25519', $2, $3, $4) ON CONFLICT DO NOTHING`
	publicKeysSQL = `SELECT key_id, algorithm, public_key, created_at, retired_at FROM signing_keys ORDER BY created_at, key_id`
)

func (k *Keyring) loadActive(ctx context.Context) (string, ed25519.PrivateKey, error) {
	var row struct {
		ID     string `db:"key_id"`
		Public []byte `db:"public_key"`
		Sealed []byte `db:"private_sealed"`
	}
	if err := k.db.GetContext(ctx, &row, activeKeySQL); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("read active signing key: %w", err)
	}
	seed, err := k.sealer.Open(row.Sealed, sealPurpose)
	if err != nil {
		return "", nil, fmt.Errorf("signing key %s: %w (every node must be given the same MORTGAGED_MASTER_KEY)", row.ID, err)
	}
	if len(seed) != ed25519.SeedSize {
		return "", nil, fmt.Errorf("signing key %s: sealed seed has %d bytes", row.ID, len(seed))
	}
	secret := ed25519.NewKeyFromSeed(seed)
	// A sealed value moved from another row would open but sign for the
	// wrong public key: refuse it.
	if !bytes.Equal(secret.Public().(ed25519.PublicKey), row.Public) {
		return "", nil, fmt.Errorf("signing key %s: private key does not match the published public key", row.ID)
	}
	return row.ID, secret, nil
}

// newKey makes a key pair and its row values.
func newKey(sealer *seal.Sealer, now time.Time) (id string, public, sealed []byte, err error) {
	pub, secret, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", nil, nil, err
	}
	return NewKeyID(now), pub, sealer.Seal(secret.Seed(), sealPurpose), nil
}

func (k *Keyring) insertFirst(ctx context.Context) error {
	id, pub, sealed, err := newKey(k.sealer, k.now())
	if err != nil {
		return err
	}
	if _, err := k.db.ExecContext(ctx, insertKeySQL, id, pub, sealed, k.now()); err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// shanghai is business time, for the year in key ids.
var shanghai = time.FixedZone("CST", 8*3600)

// NewKeyID makes a key id: the year of creation and 32 random bits,
// "k2026-1a2b3c4d".
func NewKeyID(now time.Time) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return fmt.Sprintf("k%d-%s", now.In(shanghai).Year(), hex.EncodeToString(b[:]))
}

// Rotate retires the active key and creates its successor in one
// transaction; it returns the new key. Running nodes switch to it at their
// next Refresh.
func Rotate(ctx context.Context, d *sqlx.DB, sealer *seal.Sealer) (key PublicKey, err error) {
	err = db.WithTx(ctx, d, nil, func(tx *sqlx.Tx) (err error) {
		key, err = rotate(ctx, tx, sealer)
		return err
	})
	if err != nil {
		return PublicKey{}, err
	}
	return key, nil
}

func rotate(ctx context.Context, tx *sqlx.Tx, sealer *seal.Sealer) (PublicKey, error) {
	// Two rotations at once would each retire the old key and then collide
	// on the active index; one waits for the other instead.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, rotateLockSpace); err != nil {
		return PublicKey{}, fmt.Errorf("lock signing keys: %w", err)
	}
	var now time.Time
	if err := tx.GetContext(ctx, &now, `SELECT now()`); err != nil {
		return PublicKey{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL`, now); err != nil {
		return PublicKey{}, fmt.Errorf("retire signing key: %w", err)
	}
	id, pub, sealed, err := newKey(sealer, now)
	if err != nil {
		return PublicKey{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (key_id, algorithm, public_key, private_sealed, created_at)
		VALUES ($1, 'Ed25519', $2, $3, $4)`, id, pub, sealed, now); err != nil {
		return PublicKey{}, fmt.Errorf("create signing key: %w", err)
	}
	return PublicKey{ID: id, Algorithm: Algorithm, Key: pub, CreatedAt: now}, nil
}

// PublicKeys lists every key ever used, active and retired, oldest first.
func PublicKeys(ctx context.Context, db *sqlx.DB) ([]PublicKey, error) {
	var rows []struct {
		ID        string       `db:"key_id"`
		Algorithm string       `db:"algorithm"`
		Public    []byte       `db:"public_key"`
		CreatedAt time.Time    `db:"created_at"`
		RetiredAt sql.NullTime `db:"retired_at"`
	}
	if err := db.SelectContext(ctx, &rows, publicKeysSQL); err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	keys := make([]PublicKey, len(rows))
	for i, r := range rows {
		keys[i] = PublicKey{ID: r.ID, Algorithm: r.Algorithm, Key: ed25519.PublicKey(r.Public), CreatedAt: r.CreatedAt}
		if r.RetiredAt.Valid {
			t := r.RetiredAt.Time
			keys[i].RetiredAt = &t
		}
	}
	return keys, nil
}

// PublicKeys lists every key ever used, active and retired, oldest first.
func (k *Keyring) PublicKeys(ctx context.Context) ([]PublicKey, error) { return PublicKeys(ctx, k.db) }
