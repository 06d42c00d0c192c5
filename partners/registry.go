package partners

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/seal"
)

// Partner kinds.
const (
	KindBank       = "bank"
	KindFundCentre = "fund_centre"
)

// Partner is a bank or the provident fund centre that submits bundles.
type Partner struct {
	ID         string `db:"id" json:"id"`
	Kind       string `db:"kind" json:"kind"`
	Name       string `db:"name" json:"name"`
	CreditCode string `db:"credit_code" json:"creditCode"`
	Enabled    bool   `db:"enabled" json:"enabled"`
}

// ErrUnauthenticated is returned for a missing, malformed, unknown or revoked key.
var ErrUnauthenticated = errors.New("unauthenticated")

// Registry stores partners, their API keys and their push settings.
type Registry struct {
	DB *sqlx.DB
	// Sealer seals and opens webhook secrets; only the push settings need it.
	Sealer *seal.Sealer
}

// Add records a new partner.
func (r *Registry) Add(ctx context.Context, p Partner) error {
	_, err := r.DB.ExecContext(ctx, `INSERT INTO partners (id, kind, name, credit_code, enabled) VALUES ($1, $2, $3, $4, true)`,
		p.ID, p.Kind, p.Name, p.CreditCode)
	if err != nil {
		return fmt.Errorf("add partner %s: %w", p.ID, err)
	}
	return nil
}

// List returns every partner in id order.
func (r *Registry) List(ctx context.Context) ([]Partner, error) {
	var ps []Partner
	err := r.DB.SelectContext(ctx, &ps, `SELECT id, kind, name, credit_code, enabled FROM partners ORDER BY id`)
	return ps, err
}

// keyPrefix marks our keys so a leaked one is recognisable in a code scan.
const keyPrefix = "mk_"

// IssueKey makes a new API key for a partner. The key is returned once and
// only its hash is stored.
func (r *Registry) IssueKey(ctx context.Context, partnerID string) (string, error) {
	var id [8]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", err
	}
	keyID := hex.EncodeToString(id[:])
	sec := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(sec))
	if _, err := r.DB.ExecContext(ctx, `INSERT INTO api_keys (key_id, partner_id, secret_hash) VALUES ($1, $2, $3)`,
		keyID, partnerID, sum[:]); err != nil {
		return "", fmt.Errorf("store key for %s: %w", partnerID, err)
	}
	return keyPrefix + keyID + "_" + sec, nil
}

// Authenticate returns the enabled partner that owns key.
func (r *Registry) Authenticate(ctx context.Context, key string) (Partner, error) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	keyID, sec, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(keyID) != 16 || sec == "" {
		return Partner{}, ErrUnauthenticated
	}
	var row struct {
		Partner
		Hash []byte `db:"secret_hash"`
	}
	err := r.DB.GetContext(ctx, &row, `SELECT p.id, p.kind, p.name, p.credit_code, p.enabled, k.secret_hash
		FROM api_keys k JOIN partners p ON p.id = k.partner_id
		WHERE k.key_id = $1 AND k.revoked_at IS NULL`, keyID)
	if errors.Is(err, sql.ErrNoRows) {
		return Partner{}, ErrUnauthenticated
	}
	if err != nil {
		return Partner{}, fmt.Errorf("look up key: %w", err)
	}
	sum := sha256.Sum256([]byte(sec))
	if subtle.ConstantTimeCompare(sum[:], row.Hash) != 1 || !row.Enabled {
		return Partner{}, ErrUnauthenticated
	}
	return row.Partner, nil
}
