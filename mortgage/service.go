package mortgage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ObjectionPolicy says what an open objection (异议登记) on a unit does to a
// new mortgage; it is local practice, so it is configuration.
type ObjectionPolicy string

// Objection policies.
const (
	ObjectionRefuse      ObjectionPolicy = "refuse"      // refuse while an objection stands
	ObjectionUndertaking ObjectionPolicy = "undertaking" // register if the applicant signs a risk undertaking
	ObjectionAllow       ObjectionPolicy = "allow"       // register regardless
)

// Config is the centre's local settings for registration.
type Config struct {
	Province         string // 黑
	City             string // 齐齐哈尔市
	Authority        string // 齐齐哈尔市不动产登记中心
	RecordingOfficer string // 登簿人 for automatic registration
	ObjectionPolicy  ObjectionPolicy
	FeePayer         string // "mortgagee" or "mortgagor"
	Location         *time.Location
}

// Status is where a bundle stands.
type Status string

// Bundle statuses.
const (
	StatusRegistered Status = "registered"
	StatusRejected   Status = "rejected"
)

// UnitRank is a mortgage's rank (顺位) on one unit.
type UnitRank struct {
	UnitNumber string `json:"unitNumber"`
	Rank       int    `json:"rank"`
}

// Registration is what a registered first registration wrote into the register.
type Registration struct {
	CertificateNumber string     `json:"certificateNumber"`
	RegisteredAt      time.Time  `json:"registeredAt"`
	RecordingOfficer  string     `json:"recordingOfficer"`
	Ranks             []UnitRank `json:"ranks"`
}

// Cancelled is what a registered cancellation wrote.
type Cancelled struct {
	CertificateNumber string    `json:"certificateNumber"`
	CancelledAt       time.Time `json:"cancelledAt"`
	RecordingOfficer  string    `json:"recordingOfficer"`
}

// Decision is the centre's answer to one bundle.
type Decision struct {
	BundleID     string        `json:"bundleId"`
	Reference    string        `json:"reference"`
	Type         Type          `json:"type"`
	Status       Status        `json:"status"`
	Reasons      Issues        `json:"reasons"`
	ReceivedAt   time.Time     `json:"receivedAt"`
	DecidedAt    time.Time     `json:"decidedAt"`
	Registration *Registration `json:"registration,omitempty"`
	Cancelled    *Cancelled    `json:"cancellation,omitempty"`
	Fee          *Fee          `json:"fee,omitempty"`
}

// Answer is a decision rendered in the submitter's format; it is stored with
// the bundle so a retried submission gets the very same bytes back (PROMISES S2).
type Answer struct {
	Status int
	Body   []byte
}

// Renderer turns a decision into the submitter's answer.
type Renderer func(*Decision) (Answer, error)

// Submitter is the partner on whose behalf an application is submitted.
type Submitter struct {
	PartnerID  string
	CreditCode string
}

// Outcome is the result of a submission: a fresh decision, or a replay.
type Outcome struct {
	Decision *Decision // nil on replay
	Answer   Answer
	Replayed bool
}

// Service registers mortgages against the register in PostgreSQL.
type Service struct {
	DB     *sqlx.DB
	Config Config
	Now    func() time.Time
	// EncodeEvent renders outbox events in the partner's format.
	EncodeEvent EventEncoder
	// BeforeCommit, when set, runs inside the registration transaction just
	// before commit: crash tests pause there (PROMISES S1).
	BeforeCommit func(context.Context)
}

// NewService makes a service with the real clock.
func NewService(db *sqlx.DB, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Service{DB: db, Config: cfg, Now: time.Now, EncodeEvent: EncodeEventJSON}
}

// Today is the business date now.
func (s *Service) Today() Date { return DateOf(s.Now(), s.Config.Location) }

// idempotencyLockSpace namespaces the advisory locks that serialise
// submissions of one (partner, reference).
const idempotencyLockSpace = 0x6d67

// Submit validates an application, checks it against the register and
// decides it, all in one transaction. A validation failure returns a
// *ValidationError and writes nothing; a reused reference with other content
// returns a *ConflictError.
func (s *Service) Submit(ctx context.Context, sub Submitter, app *Application, render Renderer) (Outcome, error) {
	if is := Validate(app, Rules{Today: s.Today(), PartnerCreditCode: sub.CreditCode}); len(is) > 0 {
		return Outcome{}, &ValidationError{Issues: is}
	}
	normalise(app)
	hash := app.ContentHash()

	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return Outcome{}, err
	}
	defer tx.Rollback()

	// Concurrent retries of one submission wait here for the first to commit,
	// then find it below and replay it.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`,
		idempotencyLockSpace, sub.PartnerID+"/"+app.Reference); err != nil {
		return Outcome{}, fmt.Errorf("lock reference: %w", err)
	}
	var prior struct {
		ID     string `db:"id"`
		Hash   []byte `db:"content_hash"`
		Status int    `db:"response_status"`
		Body   []byte `db:"response_body"`
	}
	err = tx.GetContext(ctx, &prior, `SELECT id, content_hash, response_status, response_body
		FROM bundles WHERE partner_id = $1 AND reference = $2`, sub.PartnerID, app.Reference)
	switch {
	case err == nil:
		if string(prior.Hash) != string(hash) {
			return Outcome{}, &ConflictError{BundleID: prior.ID}
		}
		return Outcome{Answer: Answer{Status: prior.Status, Body: prior.Body}, Replayed: true}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Outcome{}, fmt.Errorf("look up reference: %w", err)
	}

	now := s.Now().Truncate(time.Microsecond) // PostgreSQL keeps microseconds
	d := &Decision{BundleID: newBundleID(), Reference: app.Reference, Type: app.Type, ReceivedAt: now, DecidedAt: now, Reasons: Issues{}}
	var mortgageID int64
	if app.Type.IsFirst() {
		mortgageID, err = s.registerFirst(ctx, tx, sub, app, d)
	} else {
		mortgageID, err = s.cancel(ctx, tx, sub, app, d)
	}
	if err != nil {
		return Outcome{}, err
	}
	if len(d.Reasons) > 0 {
		d.Status = StatusRejected
		d.Reasons = d.Reasons.Sorted()
		d.Registration, d.Cancelled, d.Fee = nil, nil, nil
	} else {
		d.Status = StatusRegistered
	}
	ans, err := render(d)
	if err != nil {
		return Outcome{}, fmt.Errorf("render decision: %w", err)
	}
	if err := s.writeBundle(ctx, tx, sub, app, hash, d, mortgageID, ans); err != nil {
		return Outcome{}, err
	}
	if err := s.enqueue(ctx, tx, decisionEvents(sub, d, nil, nil)...); err != nil {
		return Outcome{}, err
	}
	if s.BeforeCommit != nil {
		s.BeforeCommit(ctx)
	}
	if err := tx.Commit(); err != nil {
		return Outcome{}, fmt.Errorf("commit: %w", err)
	}
	return Outcome{Decision: d, Answer: ans}, nil
}

// normalise puts identifiers in their canonical spelling so that equal
// content hashes equal and register comparisons are exact.
func normalise(a *Application) {
	for i := range a.Units {
		if c, err := ParseCertificateNumber(a.Units[i].TitleCertificateNumber); err == nil {
			a.Units[i].TitleCertificateNumber = c.String()
		}
	}
	if a.Cancellation != nil {
		if c, err := ParseCertificateNumber(a.Cancellation.CertificateNumber); err == nil {
			a.Cancellation.CertificateNumber = c.String()
		}
	}
	if a.Type.IsFirst() && len(a.Debtors) == 0 {
		a.Debtors = append([]Party(nil), a.Mortgagors...) // the usual case: the mortgagors owe the debt
	}
	for i := range a.Materials {
		a.Materials[i].SHA256 = strings.ToLower(a.Materials[i].SHA256)
	}
}

func newBundleID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return "b" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (s *Service) writeBundle(ctx context.Context, tx *sqlx.Tx, sub Submitter, app *Application, hash []byte, d *Decision, mortgageID int64, ans Answer) error {
	reasons, _ := json.Marshal(d.Reasons)
	var mid sql.NullInt64
	if mortgageID != 0 {
		mid = sql.NullInt64{Int64: mortgageID, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bundles
		(id, partner_id, reference, content_hash, type, status, reasons, application, mortgage_id,
		 received_at, decided_at, response_status, response_body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		d.BundleID, sub.PartnerID, app.Reference, hash, app.Type, d.Status, reasons, app.Canonical(), mid,
		d.ReceivedAt, d.DecidedAt, ans.Status, ans.Body); err != nil {
		return fmt.Errorf("insert bundle: %w", err)
	}
	if n := len(app.Materials); n > 0 {
		kinds, names, media, sums := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		contents := make(pq.ByteaArray, n)
		for i, m := range app.Materials {
			kinds[i], names[i], media[i], sums[i], contents[i] = m.Kind, m.FileName, m.MediaType, m.SHA256, m.Content
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO materials (bundle_id, seq, kind, file_name, media_type, sha256, content)
			SELECT $1, m.ord, m.kind, m.name, m.media, decode(m.sum, 'hex'), m.content
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[]) WITH ORDINALITY
				AS m(kind, name, media, sum, content, ord)`,
			d.BundleID, pq.Array(kinds), pq.Array(names), pq.Array(media), pq.Array(sums), contents); err != nil {
			return fmt.Errorf("insert materials: %w", err)
		}
	}
	detail := map[string]any{"partner": sub.PartnerID, "reference": app.Reference, "type": app.Type}
	actor := "partner:" + sub.PartnerID
	if d.Status == StatusRegistered {
		actor = s.Config.RecordingOfficer
		if d.Registration != nil {
			detail["certificateNumber"] = d.Registration.CertificateNumber
		}
		if d.Cancelled != nil {
			detail["certificateNumber"] = d.Cancelled.CertificateNumber
		}
	} else {
		codes := make([]Code, len(d.Reasons))
		for i, r := range d.Reasons {
			codes[i] = r.Code
		}
		detail["reasons"] = codes
	}
	detailJSON, _ := json.Marshal(detail)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)`,
		d.DecidedAt, actor, "bundle."+string(d.Status), d.BundleID, detailJSON); err != nil {
		return fmt.Errorf("insert audit record: %w", err)
	}
	if d.Fee != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO fees (bundle_id, amount_fen, payer, basis, charged_at) VALUES ($1, $2, $3, $4, $5)`,
			d.BundleID, d.Fee.AmountFen, d.Fee.Payer, d.Fee.Basis, d.DecidedAt); err != nil {
			return fmt.Errorf("insert fee: %w", err)
		}
	}
	return nil
}

// Validate checks an application without the register, as Submit will.
func (s *Service) Validate(sub Submitter, app *Application) Issues {
	return Validate(app, Rules{Today: s.Today(), PartnerCreditCode: sub.CreditCode})
}
