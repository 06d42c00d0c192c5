package partners

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"mortgaged/internal/db"
	"mortgaged/internal/seal"
	"mortgaged/partners/dialects"
	"mortgaged/partners/requestsig"
	"mortgaged/partners/xmlmap"
)

// Partner kinds.
const (
	KindBank       = "bank"
	KindFundCentre = "fund_centre"
)

// Partner is a bank or the provident fund centre that submits bundles.
type Partner struct {
	ID            string `db:"id" json:"id"`
	Kind          string `db:"kind" json:"kind"`
	Name          string `db:"name" json:"name"`
	CreditCode    string `db:"credit_code" json:"creditCode"`
	Enabled       bool   `db:"enabled" json:"enabled"`
	Format        string `db:"format" json:"format"`                 // the wire format it speaks
	RatePerMinute int    `db:"rate_per_minute" json:"ratePerMinute"` // requests a minute, per node
	MaxConcurrent int    `db:"max_concurrent" json:"maxConcurrent"`  // requests in flight, per node
	// ClientCerts are SHA-256 fingerprints (hex) of the client certificates
	// the partner may use; when any are set, requests must present one.
	ClientCerts pq.StringArray `db:"client_cert_sha256" json:"clientCertificates,omitempty"`
	// Mortgagees are the names and credit codes the partner registers
	// mortgages under (its own and its branches'); read on authentication.
	Mortgagees []Mortgagee `db:"-" json:"-"`
}

// Mortgagee is a name and credit code a partner may name as mortgagee.
type Mortgagee struct {
	Name       string `db:"name"`
	CreditCode string `db:"credit_code"`
	Own        bool   `db:"own"` // the partner's own: follows the partner's name and code
}

// ErrUnauthenticated is returned for a missing, malformed, unknown or revoked key.
var ErrUnauthenticated = errors.New("unauthenticated")

// Registry stores partners, their API keys and their push settings.
type Registry struct {
	DB *sqlx.DB
	// Sealer seals webhook secrets and derives request-signing secrets.
	Sealer *seal.Sealer
	// Formats are the wire formats a partner may be registered with (the
	// node's *formats.Set); nil means the built-in formats and the bank
	// dialects shipped with the binary.
	Formats FormatNames

	stmtsOnce sync.Once
	stmts     *db.Statements // the authentication path's statements, prepared
}

// partnerColumns are read wherever a Partner is.
const partnerColumns = `p.id, p.kind, p.name, p.credit_code, p.enabled, p.format, p.rate_per_minute, p.max_concurrent, p.client_cert_sha256`

// Add records a new partner, with the default format for its kind when none is given.
func (r *Registry) Add(ctx context.Context, p Partner) error {
	if p.Format == "" {
		p.Format = FormatCentreJSON
		if p.Kind == KindFundCentre {
			p.Format = FormatFundBatch
		}
	}
	if err := r.checkFormat(p.Format); err != nil {
		return err
	}
	_, err := r.DB.ExecContext(ctx, `INSERT INTO partners (id, kind, name, credit_code, enabled, format) VALUES ($1, $2, $3, $4, true, $5)`,
		p.ID, p.Kind, p.Name, p.CreditCode, p.Format)
	if err != nil {
		return fmt.Errorf("add partner %s: %w", p.ID, err)
	}
	return nil
}

// Formats a partner may speak; bank dialects are named by their mapping file.
const (
	FormatCentreJSON = "centre-json-v1"
	FormatCentreXML  = "centre-xml-v1"
	FormatFundBatch  = "fund-batch-v1"
)

// FormatNames lists wire formats by name, as *formats.Set does.
type FormatNames interface{ Names() []string }

// ErrUnknownFormat is a format no partner may be registered with: one this
// node does not speak, which would fail every request the partner sends.
var ErrUnknownFormat = errors.New("unknown wire format")

// shippedFormats are the built-in formats and the shipped bank dialects.
var shippedFormats = sync.OnceValues(func() ([]string, error) {
	set, err := xmlmap.Load(dialects.Files)
	if err != nil {
		return nil, err
	}
	return append([]string{FormatCentreJSON, FormatCentreXML, FormatFundBatch}, set.Names()...), nil
})

// checkFormat refuses a format the node does not speak.
func (r *Registry) checkFormat(name string) error {
	var known []string
	if r.Formats != nil {
		known = r.Formats.Names()
	} else {
		var err error
		if known, err = shippedFormats(); err != nil {
			return fmt.Errorf("bank dialects: %w", err)
		}
	}
	if slices.Contains(known, name) {
		return nil
	}
	return fmt.Errorf("%w %q: want one of %s", ErrUnknownFormat, name, strings.Join(slices.Sorted(slices.Values(known)), ", "))
}

// List returns every partner in id order.
func (r *Registry) List(ctx context.Context) ([]Partner, error) {
	var ps []Partner
	err := r.DB.SelectContext(ctx, &ps, `SELECT `+partnerColumns+` FROM partners p ORDER BY id`)
	return ps, err
}

// Get returns one partner.
func (r *Registry) Get(ctx context.Context, id string) (Partner, error) {
	var p Partner
	err := r.DB.GetContext(ctx, &p, `SELECT `+partnerColumns+` FROM partners p WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("no partner %q", id)
	}
	return p, err
}

// Disable stops a partner: its keys no longer authenticate.
func (r *Registry) Disable(ctx context.Context, id string) error {
	res, err := r.DB.ExecContext(ctx, `UPDATE partners SET enabled = false WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no partner %q", id)
	}
	return nil
}

// SetLimits changes a partner's format, rate and concurrency limits and
// client certificates; zero values keep what is set.
func (r *Registry) SetLimits(ctx context.Context, id, format string, ratePerMinute, maxConcurrent int, certs []string) error {
	if format != "" {
		if err := r.checkFormat(format); err != nil {
			return err
		}
	}
	_, err := r.DB.ExecContext(ctx, `UPDATE partners SET
			format = COALESCE(NULLIF($2, ''), format),
			rate_per_minute = COALESCE(NULLIF($3, 0), rate_per_minute),
			max_concurrent = COALESCE(NULLIF($4, 0), max_concurrent),
			client_cert_sha256 = COALESCE($5, client_cert_sha256)
		WHERE id = $1`, id, format, ratePerMinute, maxConcurrent, certArray(certs))
	return err
}

// SetEncumbranceQuota sets how many encumbrance queries the partner may
// make a business day; quota < 0 returns it to the centre's default.
func (r *Registry) SetEncumbranceQuota(ctx context.Context, id string, quota int) error {
	var q sql.NullInt64
	if quota >= 0 {
		q = sql.NullInt64{Int64: int64(quota), Valid: true}
	}
	res, err := r.DB.ExecContext(ctx, `UPDATE partners SET encumbrance_quota = $2 WHERE id = $1`, id, q)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no partner %q", id)
	}
	return nil
}

func certArray(certs []string) any {
	if certs == nil {
		return nil
	}
	return pq.StringArray(certs)
}

// keyPurpose separates partner signing secrets from anything else derived.
const keyPurpose = "partner-request-key"

// secret is the signing secret of a key: derived from the master key, never
// stored. Its text form is what the partner holds after "mk_<id>_".
func (r *Registry) secret(keyID string) string {
	return base64.RawURLEncoding.EncodeToString(r.Sealer.Derive(keyPurpose, keyID))
}

// IssueKey makes a new key for a partner and returns it, once. Only a hash
// of the secret is stored, for audit; the server re-derives the secret from
// the master key to check signatures.
func (r *Registry) IssueKey(ctx context.Context, partnerID string) (string, error) {
	return r.issueKey(ctx, r.DB, partnerID)
}

func (r *Registry) issueKey(ctx context.Context, db sqlx.ExecerContext, partnerID string) (string, error) {
	if r.Sealer == nil {
		return "", errors.New("partners: no master key to derive signing secrets")
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	keyID := hex.EncodeToString(id[:])
	sec := r.secret(keyID)
	sum := sha256.Sum256([]byte(sec))
	if _, err := db.ExecContext(ctx, `INSERT INTO api_keys (key_id, partner_id, secret_hash) VALUES ($1, $2, $3)`,
		keyID, partnerID, sum[:]); err != nil {
		return "", fmt.Errorf("store key for %s: %w", partnerID, err)
	}
	return requestsig.KeyPrefix + keyID + "_" + sec, nil
}

// RotateKey issues a new key and lets the partner's other keys keep working
// for overlap, so the bank can switch without a gap.
func (r *Registry) RotateKey(ctx context.Context, partnerID string, overlap time.Duration) (string, error) {
	if overlap < 0 {
		return "", fmt.Errorf("rotate key of %s: negative overlap %s", partnerID, overlap)
	}
	var key string
	err := db.WithTx(ctx, r.DB, nil, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET expires_at = now() + $2 * interval '1 second'
		WHERE partner_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now() + $2 * interval '1 second')`,
			partnerID, int64(overlap/time.Second)); err != nil {
			return err
		}
		var err error
		key, err = r.issueKey(ctx, tx, partnerID)
		return err
	})
	return key, err
}

// Mortgagee identities (migration 0012). The partner's own name and code is
// kept by a trigger on partners; branches are added and removed here.
const (
	mortgageesSQL = `SELECT name, credit_code, own FROM partner_mortgagees WHERE partner_id = $1 ORDER BY NOT own, credit_code`
	// A credit code is one legal person: held by one partner only, so no
	// partner can cancel another's mortgages under it.
	addMortgageeSQL = `INSERT INTO partner_mortgagees (partner_id, credit_code, name)
		SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM partner_mortgagees WHERE credit_code = $2 AND partner_id <> $1)
			AND NOT EXISTS (SELECT 1 FROM partners WHERE credit_code = $2 AND id <> $1)
		ON CONFLICT (partner_id, credit_code) DO NOTHING`
	removeMortgageeSQL = `DELETE FROM partner_mortgagees WHERE partner_id = $1 AND credit_code = $2 AND NOT own`
)

// ErrMortgageeTaken is returned when a credit code is listed already, for
// this partner or another.
var ErrMortgageeTaken = errors.New("credit code already listed as a mortgagee")

// Mortgagees lists the identities a partner may name as mortgagee, its own first.
func (r *Registry) Mortgagees(ctx context.Context, partnerID string) ([]Mortgagee, error) {
	if _, err := r.Get(ctx, partnerID); err != nil {
		return nil, err
	}
	var ms []Mortgagee
	err := r.DB.SelectContext(ctx, &ms, mortgageesSQL, partnerID)
	return ms, err
}

// AddMortgagee lets a partner register mortgages under a branch's name and
// credit code. The caller checks the code's form.
func (r *Registry) AddMortgagee(ctx context.Context, partnerID, name, creditCode string) error {
	if _, err := r.Get(ctx, partnerID); err != nil {
		return err
	}
	res, err := r.DB.ExecContext(ctx, addMortgageeSQL, partnerID, creditCode, name)
	if err != nil {
		return fmt.Errorf("add mortgagee %s to %s: %w", creditCode, partnerID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrMortgageeTaken, creditCode)
	}
	return nil
}

// RemoveMortgagee stops a partner naming a branch as mortgagee; mortgages
// already registered under it stay, and the partner can still cancel them
// only while the branch is listed. The partner's own identity cannot be removed.
func (r *Registry) RemoveMortgagee(ctx context.Context, partnerID, creditCode string) error {
	res, err := r.DB.ExecContext(ctx, removeMortgageeSQL, partnerID, creditCode)
	if err != nil {
		return fmt.Errorf("remove mortgagee %s from %s: %w", creditCode, partnerID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("partner %q has no branch mortgagee %s (its own name and code cannot be removed)", partnerID, creditCode)
	}
	return nil
}

// Signer is who signed a request: the partner and its signing secret.
type Signer struct {
	Partner Partner
	Secret  []byte
}

// KeyOwner finds the enabled partner owning a current key and the key's
// signing secret.
func (r *Registry) KeyOwner(ctx context.Context, keyID string) (Signer, error) {
	if len(keyID) != 16 || r.Sealer == nil {
		return Signer{}, ErrUnauthenticated
	}
	var row struct {
		Partner
		// The mortgagee identities ride along: no second round trip.
		Names pq.StringArray `db:"mortgagee_names"`
		Codes pq.StringArray `db:"mortgagee_codes"`
	}
	st, err := r.stmt(ctx, `SELECT `+partnerColumns+`,
			ARRAY(SELECT m.name FROM partner_mortgagees m WHERE m.partner_id = p.id ORDER BY m.credit_code) AS mortgagee_names,
			ARRAY(SELECT m.credit_code FROM partner_mortgagees m WHERE m.partner_id = p.id ORDER BY m.credit_code) AS mortgagee_codes
		FROM api_keys k JOIN partners p ON p.id = k.partner_id
		WHERE k.key_id = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) AND p.enabled`)
	if err != nil {
		return Signer{}, err
	}
	err = st.GetContext(ctx, &row, keyID)
	p := row.Partner
	if err == nil {
		p.Mortgagees = make([]Mortgagee, 0, len(row.Codes))
		for i := range min(len(row.Codes), len(row.Names)) {
			p.Mortgagees = append(p.Mortgagees, Mortgagee{Name: row.Names[i], CreditCode: row.Codes[i]})
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Signer{}, ErrUnauthenticated
	}
	if err != nil {
		return Signer{}, fmt.Errorf("look up key: %w", err)
	}
	return Signer{Partner: p, Secret: []byte(r.secret(keyID))}, nil
}

// UseNonce records a request nonce; false means it was seen before (a
// replay). Old nonces are cleared now and then: a nonce outside the
// timestamp window cannot be replayed anyway.
func (r *Registry) UseNonce(ctx context.Context, keyID, nonce string) (bool, error) {
	st, err := r.stmt(ctx, `INSERT INTO request_nonces (key_id, nonce) VALUES ($1, $2) ON CONFLICT DO NOTHING`)
	if err != nil {
		return false, err
	}
	res, err := st.ExecContext(ctx, keyID, nonce)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	if nonceSweep.Add(1)%1000 == 0 {
		if _, err := r.DB.ExecContext(ctx, `DELETE FROM request_nonces WHERE seen_at < now() - interval '15 minutes'`); err != nil {
			return false, err
		}
	}
	return n == 1, nil
}

// stmt is a statement of the authentication path, prepared once: it runs
// on every request.
func (r *Registry) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	r.stmtsOnce.Do(func() { r.stmts = &db.Statements{DB: r.DB} })
	return r.stmts.Get(ctx, query)
}

var nonceSweep atomic.Uint64
