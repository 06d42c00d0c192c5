package partners

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
)

// Push modes.
const (
	PushEach  = "each"  // one POST per event (banks)
	PushBatch = "batch" // one POST per run carrying every due event (the provident fund centre)
)

// SealPurpose binds sealed webhook secrets to their use.
const SealPurpose = "webhook-secret"

// MinPushInterval is the shortest "@every" schedule an administrator may set.
const MinPushInterval = time.Second

// Push is how and when a partner hears from us.
type Push struct {
	PartnerID   string `db:"id"`
	CallbackURL string `db:"callback_url"` // empty: pull only
	Schedule    string `db:"push_schedule"`
	Mode        string `db:"push_mode"`
	// Enabled is false when an administrator turned the push off or the
	// partner answered 410 Gone.
	Enabled bool `db:"push_enabled"`
	// PartnerEnabled is false for an offboarded partner: nothing is pushed.
	PartnerEnabled bool `db:"enabled"`
	HasSecret      bool `db:"has_secret"`
	// Secret is the webhook secret's key bytes, filled by PushSettings only.
	Secret []byte `db:"-"`
}

// Active says whether the push should run for this partner.
func (p Push) Active() bool {
	return p.Enabled && p.PartnerEnabled && p.CallbackURL != "" && p.HasSecret
}

// Errors of the push settings.
var (
	ErrNotFound = errors.New("partner not found")
	ErrNoSealer = errors.New("no master key: webhook secrets cannot be sealed or opened")
)

// ValidateSchedule accepts "@every <duration>" (at least MinPushInterval) or
// a five-field cron expression (minute hour day month weekday, in the
// centre's time zone), e.g. "0 18 * * *".
func ValidateSchedule(s string) error {
	if rest, ok := strings.CutPrefix(s, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d < MinPushInterval {
			return fmt.Errorf("push schedule %q: @every wants a duration of at least %v, e.g. @every 1m", s, MinPushInterval)
		}
		return nil
	}
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return fmt.Errorf("push schedule %q: the time zone is the centre's; leave out TZ=", s)
	}
	// gocron's own parser, the one the push scheduler runs the schedule with
	// (gocron.CronJob(s, false)). The zone here only anchors the check.
	if err := gocron.NewDefaultCron(false).IsValid(s, time.UTC, time.Now()); err != nil {
		return fmt.Errorf("push schedule %q: want @every <duration> or a cron expression like '0 18 * * *': %v", s, err)
	}
	return nil
}

// ValidateCallback accepts an absolute http or https URL.
func ValidateCallback(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("callback %q: want an absolute http or https URL", s)
	}
	return nil
}

// ValidateMode accepts each or batch.
func ValidateMode(m string) error {
	if m != PushEach && m != PushBatch {
		return fmt.Errorf("push mode %q: want each or batch", m)
	}
	return nil
}

// SetPush sets where and when the partner's events are pushed and turns the
// push on. An empty schedule or mode keeps the current one. A partner that
// had no webhook secret gets one, returned here once (key bytes); it is
// stored sealed under the master key.
func (r *Registry) SetPush(ctx context.Context, id, callbackURL, schedule, mode string) (newSecret []byte, err error) {
	if err := ValidateCallback(callbackURL); err != nil {
		return nil, err
	}
	if schedule != "" {
		if err := ValidateSchedule(schedule); err != nil {
			return nil, err
		}
	}
	if mode != "" {
		if err := ValidateMode(mode); err != nil {
			return nil, err
		}
	}
	if r.Sealer == nil {
		return nil, ErrNoSealer
	}
	err = db.WithTx(ctx, r.DB, nil, func(tx *sqlx.Tx) error {
		var hasSecret bool
		err := tx.GetContext(ctx, &hasSecret, `UPDATE partners SET callback_url = $2,
		push_schedule = coalesce(nullif($3, ''), push_schedule), push_mode = coalesce(nullif($4, ''), push_mode),
		push_enabled = true
		WHERE id = $1 RETURNING webhook_secret_sealed IS NOT NULL`, id, callbackURL, schedule, mode)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("set push for %s: %w", id, err)
		}
		if !hasSecret {
			newSecret = newWebhookKey()
			if _, err := tx.ExecContext(ctx, `UPDATE partners SET webhook_secret_sealed = $2 WHERE id = $1`,
				id, r.Sealer.Seal(newSecret, SealPurpose)); err != nil {
				return fmt.Errorf("store webhook secret for %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newSecret, nil
}

// RotateWebhookSecret replaces the partner's webhook secret and returns the
// new key bytes, once. Deliveries from the next push run on are signed with it.
func (r *Registry) RotateWebhookSecret(ctx context.Context, id string) ([]byte, error) {
	if r.Sealer == nil {
		return nil, ErrNoSealer
	}
	key := newWebhookKey()
	res, err := r.DB.ExecContext(ctx, `UPDATE partners SET webhook_secret_sealed = $2 WHERE id = $1`, id, r.Sealer.Seal(key, SealPurpose))
	if err != nil {
		return nil, fmt.Errorf("rotate webhook secret for %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return key, nil
}

// newWebhookKey makes 32 random bytes, within the 24 to 64 bytes the
// Standard Webhooks scheme asks of a secret.
func newWebhookKey() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return b
}

// StopPush turns the partner's push off (its events stay available to pull).
func (r *Registry) StopPush(ctx context.Context, id string) error {
	res, err := r.DB.ExecContext(ctx, `UPDATE partners SET push_enabled = false WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("stop push for %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

const pushColumns = `id, coalesce(callback_url, '') AS callback_url, push_schedule, push_mode, push_enabled, enabled,
	webhook_secret_sealed IS NOT NULL AS has_secret`

// PushSettings returns the partner's push settings with its webhook secret opened.
func (r *Registry) PushSettings(ctx context.Context, id string) (Push, error) {
	var row struct {
		Push
		Sealed []byte `db:"webhook_secret_sealed"`
	}
	err := r.DB.GetContext(ctx, &row, `SELECT `+pushColumns+`, webhook_secret_sealed FROM partners WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Push{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Push{}, fmt.Errorf("push settings of %s: %w", id, err)
	}
	p := row.Push
	if row.Sealed != nil {
		if r.Sealer == nil {
			return Push{}, ErrNoSealer
		}
		if p.Secret, err = r.Sealer.Open(row.Sealed, SealPurpose); err != nil {
			return Push{}, fmt.Errorf("webhook secret of %s: %w", id, err)
		}
	}
	return p, nil
}

// Pushes lists every partner's push settings (without secrets) in id order.
func (r *Registry) Pushes(ctx context.Context) ([]Push, error) {
	var ps []Push
	if err := r.DB.SelectContext(ctx, &ps, `SELECT `+pushColumns+` FROM partners ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list push settings: %w", err)
	}
	return ps, nil
}
