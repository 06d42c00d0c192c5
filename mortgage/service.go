package mortgage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
	"mortgaged/mortgage/calendar"
	"mortgaged/mortgage/store"
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
	Location         *time.Location
	Calendar         calendar.Settings // service days, cut-off and close for desk deadlines
	// EncumbranceQuota is each partner's encumbrance queries a business
	// day unless the partner has its own; 0 means DefaultEncumbranceQuota.
	EncumbranceQuota int
	// Promisable are the document kinds an applicant may promise for later
	// (容缺受理); nil means DefaultPromisable. The promised_document routing
	// rule chooses among them, never beyond.
	Promisable []string
	// Strict are the demands beyond the law this centre makes; all off by
	// default.
	Strict StrictRules
}

// Status is where a bundle stands.
type Status string

// Bundle statuses.
const (
	StatusRegistered Status = "registered"
	StatusRejected   Status = "rejected"
	StatusDesk       Status = "desk"      // waiting for centre staff
	StatusWithdrawn  Status = "withdrawn" // withdrawn by the partner before staff decided
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
	// At the desk: why, by when staff decide, and what is still owed.
	DeskReasons Issues         `json:"deskReasons,omitempty"`
	Deadline    *time.Time     `json:"deadline,omitempty"`
	Promises    []PromiseState `json:"promises,omitempty"`
}

// PromiseState is a promised document and whether it has arrived.
type PromiseState struct {
	Kind        string     `json:"kind"`
	DueOn       Date       `json:"dueOn"`
	FulfilledAt *time.Time `json:"fulfilledAt,omitempty"`
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
	// Mortgagees are the identities the partner may name as mortgagee (its
	// own among them); nil means Submit reads them from the database.
	Mortgagees []Mortgagee
	// Format is the partner's wire format, which its events are written
	// in; empty means it is read from the partners table inside the
	// registration's transaction.
	Format string
}

// Outcome is the result of a submission: a fresh decision, or a replay.
type Outcome struct {
	Decision *Decision // nil on replay
	Answer   Answer
	Replayed bool
	BundleID string // on replay: the bundle replayed
}

// Service registers mortgages against the register in PostgreSQL.
type Service struct {
	DB     *sqlx.DB
	Config Config
	Now    func() time.Time
	// EncodeEvent renders outbox events in the partner's wire format.
	EncodeEvent EventEncoder
	// Signer signs the electronic certificate each first registration
	// issues; Submit refuses to run without one.
	Signer Signer
	// NewCode makes certificates' verification codes; nil means
	// NewVerificationCode (random). Golden-file tests fix it.
	NewCode func() string
	// BeforeCommit, when set, runs inside the registration transaction just
	// before commit: crash tests pause there (PROMISES S1).
	BeforeCommit func(context.Context)

	desk desk // routing rules and calendar, refreshed from the database

	serialYear atomic.Int64 // the year whose serial sequence is known to exist

	storeOnce sync.Once
	st        *store.Store // the statements, on DB (store())
}

// NewService makes a service with the real clock.
func NewService(db *sqlx.DB, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Calendar.Location == nil {
		cfg.Calendar = DefaultCalendar(cfg.Location)
	}
	return &Service{DB: db, Config: cfg, Now: time.Now, EncodeEvent: EncodeEventJSON}
}

// DefaultCalendar serves Saturdays (周六全天办), takes bundles for same-day
// decision until 16:00, and closes at 17:30: the defaults of
// MORTGAGED_SATURDAY_SERVICE, MORTGAGED_CUTOFF and MORTGAGED_CLOSE, which
// installations set (internal/config).
func DefaultCalendar(loc *time.Location) calendar.Settings {
	return calendar.Settings{Location: loc, SaturdayService: true, CutOff: 16 * time.Hour, Close: 17*time.Hour + 30*time.Minute}
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
	if is := reservedReference(app.Reference); len(is) > 0 {
		return Outcome{}, &ValidationError{Issues: is}
	}
	return s.submit(ctx, sub, app, render, "")
}

// SubmitRecord decides a batch record's application as Submit does, filed
// under filedAs (Batch.RecordReference) rather than the partner's own
// reference, app.Reference, which stays the key a resent record or a single
// bundle is recognised by (PROMISES S2/S3). The partner's reference is not
// checked for a "#": a record's is the partner's, not one of ours.
func (s *Service) SubmitRecord(ctx context.Context, sub Submitter, app *Application, filedAs string, render Renderer) (Outcome, error) {
	filed := *app // the caller's application stays as it was
	filed.Reference = filedAs
	return s.submit(ctx, sub, &filed, render, app.Reference)
}

// reservedReference refuses a single bundle's reference that has a "#":
// those are batch records' (Batch.RecordReference, docs/batches.md).
func reservedReference(ref string) Issues {
	var is Issues
	if strings.Contains(ref, "#") {
		is.Add("reference", CodeReferenceFormat, "含“#”的业务编号保留给批量记录（批次号#序号），单件申请请使用不含“#”的业务编号")
	}
	return is
}

// submit decides an application filed under app.Reference. recordRef is
// the partner's own reference when the application is a batch record
// (filed under its batch reference); "" for a single bundle.
func (s *Service) submit(ctx context.Context, sub Submitter, app *Application, render Renderer, recordRef string) (Outcome, error) {
	if s.Signer == nil {
		return Outcome{}, ErrNoSigner
	}
	sub, err := s.withMortgagees(ctx, sub)
	if err != nil {
		return Outcome{}, err
	}
	if is := Validate(app, s.rules(sub)); len(is) > 0 {
		return Outcome{}, &ValidationError{Issues: is}
	}
	rules, cal, err := s.routing(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if is, err := checkPromises(app, s.promisable(), rules, cal, s.Today()); err != nil {
		return Outcome{}, err
	} else if len(is) > 0 {
		return Outcome{}, &ValidationError{Issues: is}
	}
	// From here on the domain's own copy: the caller's stays as it was.
	app = normalised(app)
	canonical := app.Canonical() // stored with the bundle, and hashed for idempotency
	sum := sha256.Sum256(canonical)
	hash := sum[:]

	var out Outcome
	err = s.inTx(ctx, nil, func(tx *ptx) (err error) {
		out, err = s.decideIn(ctx, tx, sub, app, canonical, hash, rules, cal, render, recordRef)
		return err
	})
	if err != nil {
		return Outcome{}, err
	}
	return out, nil
}

// decideIn decides a normalised application in the registration's
// transaction: the reference's lock, a replay or a conflict, the checks
// against the register, and every row the decision writes.
func (s *Service) decideIn(ctx context.Context, tx *ptx, sub Submitter, app *Application, canonical, hash []byte,
	rules RoutingRules, cal *calendar.Calendar, render Renderer, recordRef string) (Outcome, error) {
	// Concurrent retries of one submission wait here for the first to commit,
	// then find it below and replay it. A batch record locks its partner's
	// reference, so the same record in two batches, or as a single bundle,
	// queues too.
	lockRef := app.Reference
	if recordRef != "" {
		lockRef = recordRef
	}
	if err := tx.AdvisoryLock(ctx, idempotencyLockSpace, sub.PartnerID+"/"+lockRef); err != nil {
		return Outcome{}, fmt.Errorf("lock reference: %w", err)
	}
	if out, done, err := s.prior(ctx, tx, sub, app, canonical, hash, recordRef); done {
		return out, err
	}
	now := s.Now().Truncate(time.Microsecond) // PostgreSQL keeps microseconds
	d := &Decision{BundleID: newBundleID(), Reference: app.Reference, Type: app.Type, ReceivedAt: now, DecidedAt: now, Reasons: Issues{}}
	var mortgageID int64
	var issued, cancelled *IssuedCertificate // the new certificate; the one a cancellation ended
	var draft *Certificate                   // the new certificate before its number is drawn
	var err error
	review := checks{rules: rules, desk: deskReasons(app, rules), officer: s.Config.RecordingOfficer}
	if app.Type.IsFirst() {
		mortgageID, draft, err = s.registerFirst(ctx, tx, sub, app, d, &review)
	} else {
		mortgageID, cancelled, err = s.cancel(ctx, tx, sub, app, d, &review)
	}
	if err != nil {
		return Outcome{}, err
	}
	switch {
	case len(d.Reasons) > 0: // a hard failure refuses at once, whatever else a person might look at
		d.Status = StatusRejected
		d.Reasons = d.Reasons.Sorted()
		d.Registration, d.Cancelled, d.Fee = nil, nil, nil
	case len(review.desk) > 0:
		d.Status = StatusDesk
		d.DeskReasons = review.desk.Sorted()
		deadline, err := cal.Deadline(d.ReceivedAt)
		if err != nil {
			return Outcome{}, err
		}
		d.Deadline = &deadline
		for _, p := range app.Promises {
			d.Promises = append(d.Promises, PromiseState{Kind: p.Kind, DueOn: p.DueOn})
		}
	default:
		d.Status = StatusRegistered
	}
	if draft != nil && d.Status == StatusRegistered {
		// The certificate number is drawn once the decision is known, so a
		// refusal or a fault found earlier draws nothing.
		if issued, err = s.issueCertificate(ctx, tx, mortgageID, d, draft); err != nil {
			return Outcome{}, err
		}
	}
	ans, err := render(d)
	if err != nil {
		return Outcome{}, fmt.Errorf("render decision: %w", err)
	}
	if err := s.writeBundle(ctx, tx, sub, app, canonical, hash, d, mortgageID, ans, recordRef); err != nil {
		return Outcome{}, err
	}
	if err := s.writeDecisionRecords(ctx, tx, sub, app, d, mortgageID, issued); err != nil {
		return Outcome{}, err
	}
	if err := s.enqueue(ctx, tx, decisionEvents(sub, d, issued, cancelled)...); err != nil {
		return Outcome{}, err
	}
	if s.BeforeCommit != nil {
		s.BeforeCommit(ctx)
	}
	return Outcome{Decision: d, Answer: ans}, nil
}

// normalised is a copy of a with identifiers in their canonical spelling,
// so that equal content hashes equal and register comparisons are exact.
// Each field it changes is copied where it is changed, never written in
// place: concurrent submissions of one application (retries sharing its
// slices) must not write what another reads, nor the caller see its
// application change.
func normalised(a *Application) *Application {
	c := *a
	c.Units = slices.Clone(a.Units)
	for i := range c.Units {
		if n, err := ParseCertificateNumber(c.Units[i].TitleCertificateNumber); err == nil {
			c.Units[i].TitleCertificateNumber = n.String()
		}
	}
	if a.Cancellation != nil {
		cancellation := *a.Cancellation
		if n, err := ParseCertificateNumber(cancellation.CertificateNumber); err == nil {
			cancellation.CertificateNumber = n.String()
		}
		c.Cancellation = &cancellation
	}
	if a.Type.IsFirst() && len(a.Debtors) == 0 {
		c.Debtors = slices.Clone(a.Mortgagors) // the usual case: the mortgagors owe the debt
	}
	c.Materials = slices.Clone(a.Materials)
	for i := range c.Materials {
		c.Materials[i].SHA256 = strings.ToLower(c.Materials[i].SHA256)
	}
	return &c
}

func newBundleID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return "b" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (s *Service) writeBundle(ctx context.Context, tx *ptx, sub Submitter, app *Application, canonical, hash []byte, d *Decision, mortgageID int64, ans Answer, recordRef string) error {
	reasons, _ := json.Marshal(d.Reasons)
	deskReasons, _ := json.Marshal(orEmpty(d.DeskReasons))
	var decidedAt *time.Time // none while at the desk
	if d.Status != StatusDesk {
		decidedAt = &d.DecidedAt
	}
	b := store.NewBundle{ID: d.BundleID, PartnerID: sub.PartnerID, Reference: app.Reference, Hash: hash,
		Type: string(app.Type), Status: string(d.Status), Reasons: reasons, Application: canonical, MortgageID: mortgageID,
		ReceivedAt: d.ReceivedAt, DecidedAt: decidedAt,
		ResponseStatus: ans.Status, ResponseBody: ans.Body, DeskReasons: deskReasons, Deadline: d.Deadline, RecordReference: recordRef}
	if err := tx.InsertBundle(ctx, b); err != nil {
		return fmt.Errorf("insert bundle: %w", err)
	}
	for _, p := range app.Promises {
		if err := tx.InsertPromise(ctx, d.BundleID, p.Kind, p.DueOn.Time); err != nil {
			return fmt.Errorf("insert promise: %w", err)
		}
	}
	if err := tx.InsertMaterials(ctx, d.BundleID, storedMaterials(app.Materials)); err != nil {
		return err
	}
	if d.Fee != nil {
		if err := tx.InsertFee(ctx, d.BundleID, d.Fee.record(), d.DecidedAt); err != nil {
			return fmt.Errorf("insert fee: %w", err)
		}
	}
	return nil
}

// storedMaterials are a bundle's documents as the store writes them.
func storedMaterials(ms []Material) []store.Material {
	rows := make([]store.Material, len(ms))
	for i, m := range ms {
		rows[i] = store.Material{Kind: m.Kind, FileName: m.FileName, MediaType: m.MediaType, SHA256: m.SHA256, Content: m.Content}
	}
	return rows
}

// newCertificateRow is an issued certificate's row.
func newCertificateRow(c *IssuedCertificate, bundleID string, mortgageID int64, partnerID string) store.NewCertificate {
	return store.NewCertificate{Number: c.Number, BundleID: bundleID, MortgageID: mortgageID, PartnerID: partnerID,
		VerificationCode: c.VerificationCode, IssuedAt: c.IssuedAt, KeyID: c.KeyID,
		JSON: c.JSON, JSONSignature: c.JSONSignature, XML: c.XML, XMLSignature: c.XMLSignature}
}

// writeDecisionRecords writes the audit record of a decision and, for a
// registration, its certificate.
func (s *Service) writeDecisionRecords(ctx context.Context, tx *ptx, sub Submitter, app *Application, d *Decision, mortgageID int64, c *IssuedCertificate) error {
	e := s.auditOf(sub, app, d)
	if c == nil {
		return tx.Audit(ctx, e)
	}
	return tx.WriteRegistration(ctx, e, newCertificateRow(c, d.BundleID, mortgageID, sub.PartnerID))
}

// auditOf is the audit record of a decision: who decided, and what.
func (s *Service) auditOf(sub Submitter, app *Application, d *Decision) db.AuditEntry {
	m := map[string]any{"partner": sub.PartnerID, "reference": app.Reference, "type": app.Type}
	actor := "partner:" + sub.PartnerID
	if d.Status == StatusRegistered {
		actor = s.Config.RecordingOfficer
		if d.Registration != nil {
			m["certificateNumber"] = d.Registration.CertificateNumber
		}
		if d.Cancelled != nil {
			m["certificateNumber"] = d.Cancelled.CertificateNumber
		}
	} else {
		m["reasons"] = codesOf(d.Reasons)
		if d.Status == StatusDesk {
			m["deskReasons"] = codesOf(d.DeskReasons)
		}
	}
	return db.AuditEntry{At: d.ReceivedAt, Actor: actor, Action: "bundle." + string(d.Status), Subject: d.BundleID, Detail: m}
}

// Validate checks a single bundle's application without the register, as
// Submit will; the mortgagee is checked against sub.Mortgagees when given,
// else against the partner's own credit code only.
func (s *Service) Validate(sub Submitter, app *Application) Issues {
	return MergeIssues(reservedReference(app.Reference), Validate(app, s.rules(sub)))
}

// Rules are what Validate checks sub's applications against today; the
// batch runner validates each record with them before it is submitted.
func (s *Service) Rules(sub Submitter) Rules { return s.rules(sub) }

func (s *Service) rules(sub Submitter) Rules {
	return Rules{Today: s.Today(), PartnerCreditCode: sub.CreditCode, Mortgagees: sub.Mortgagees, Strict: s.Config.Strict}
}

// prior answers a submission whose reference was used before: the first
// answer again for the same content (S2), a conflict for other content
// (S3). done is false when the reference is new. For a batch record the
// record's own bundle (a pass that died before storing its result) is
// found first; then a bundle of the partner's reference for the record,
// from another batch or a single submission, whose content is compared
// without the references it was filed under.
func (s *Service) prior(ctx context.Context, tx *ptx, sub Submitter, app *Application, canonical, hash []byte, recordRef string) (out Outcome, done bool, err error) {
	lookup, key := tx.PriorByReference, app.Reference
	if recordRef != "" {
		p, err := tx.PriorRecordBundle(ctx, sub.PartnerID, app.Reference)
		switch {
		case err == nil:
			if string(p.Hash) != string(hash) {
				return Outcome{}, true, &ConflictError{BundleID: p.ID}
			}
			return Outcome{Answer: Answer{Status: p.Status, Body: p.Body}, Replayed: true, BundleID: p.ID}, true, nil
		case !errors.Is(err, store.ErrNoRows):
			return Outcome{}, true, fmt.Errorf("look up reference: %w", err)
		}
		lookup, key = tx.PriorByRecord, recordRef
	}
	p, err := lookup(ctx, sub.PartnerID, key)
	switch {
	case errors.Is(err, store.ErrNoRows):
		return Outcome{}, false, nil
	case err != nil:
		return Outcome{}, true, fmt.Errorf("look up reference: %w", err)
	}
	same := string(p.Hash) == string(hash)
	if p.IsRecord || recordRef != "" {
		if same, err = tx.SameContent(ctx, p.ID, canonical); err != nil {
			return Outcome{}, true, fmt.Errorf("compare with bundle %s: %w", p.ID, err)
		}
	}
	switch {
	case same:
		return Outcome{Answer: Answer{Status: p.Status, Body: p.Body}, Replayed: true, BundleID: p.ID}, true, nil
	case recordRef != "":
		// Refused in the record's result, as a reused reference is (S3).
		var is Issues
		is.Add("reference", CodeReferenceConflict, "业务编号 %s 已用于内容不同的申请 %s；同一笔业务重报请原样提交，新业务请使用新的业务编号", Clip(recordRef), p.ID)
		return Outcome{}, true, &ValidationError{Issues: is}
	default:
		return Outcome{}, true, &ConflictError{BundleID: p.ID}
	}
}

func codesOf(is Issues) []Code {
	codes := make([]Code, len(is))
	for i, r := range is {
		codes[i] = r.Code
	}
	return codes
}

func orEmpty(is Issues) Issues {
	if is == nil {
		return Issues{}
	}
	return is
}
