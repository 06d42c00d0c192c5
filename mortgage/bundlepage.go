package mortgage

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mortgaged/mortgage/store"
)

// BundleRow is a bundle with what the console's bundle page shows about it.
type BundleRow struct {
	ID            string
	PartnerID     string
	PartnerName   string
	Reference     string
	Type          string
	Status        string
	RawReasons    []byte
	RawDesk       []byte
	Application   []byte
	MortgageID    sql.NullInt64
	ReceivedAt    time.Time
	DecidedAt     sql.NullTime
	Deadline      sql.NullTime
	AssignedTo    sql.NullString
	AssignedName  sql.NullString
	DecidedBy     sql.NullString
	DecidedByName sql.NullString
	DecisionNote  sql.NullString
	Certificate   sql.NullString
	Officer       sql.NullString
}

// MaterialEntry is a supplied document as the bundle page lists it.
type MaterialEntry struct {
	Seq       int
	Kind      string
	FileName  string
	MediaType string
	SHA256    []byte
	Size      int64
}

// Hash is the material's SHA-256 in hex.
func (m MaterialEntry) Hash() string { return hex.EncodeToString(m.SHA256) }

// PromiseEntry is a document promised under 容缺受理, with whether it came.
type PromiseEntry struct {
	Kind        string
	DueOn       time.Time
	FulfilledAt sql.NullTime
	MaterialSeq sql.NullInt64
}

// HistoryEntry is one audit record about the bundle, with its actor's name.
type HistoryEntry struct {
	ID        int64
	At        time.Time
	Actor     string
	ActorName string
	Action    string
	Detail    []byte
}

// BundlePage is everything the console shows about one bundle: the bundle,
// its application, the register beside it, its documents, promises and
// history.
type BundlePage struct {
	strict      StrictRules // what the registration needs beyond the law, here
	B           BundleRow
	App         *Application
	DeskReasons Issues
	Refusal     Issues
	Units       []*UnitExcerpt // in the application's order
	Materials   []MaterialEntry
	Promises    []PromiseEntry
	History     []HistoryEntry
}

// BundlePage reads one bundle for the console, with the register as it
// stands on today; ErrNotFound when there is no such bundle.
func (s *Service) BundlePage(ctx context.Context, id string, today time.Time) (*BundlePage, error) {
	var p BundlePage
	st := s.store()
	b, err := st.BundlePage(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, fmt.Errorf("bundle %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	p.B = BundleRow(b)
	p.strict = s.Config.Strict
	p.App = &Application{}
	if err := json.Unmarshal(p.B.Application, p.App); err != nil {
		return nil, fmt.Errorf("bundle %s application: %w", id, err)
	}
	if p.DeskReasons, err = parseIssues(p.B.RawDesk); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	if p.Refusal, err = parseIssues(p.B.RawReasons); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	if p.Units, err = readExcerpts(ctx, st, p.App.Units, today, p.B.MortgageID.Int64); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	materials, err := st.BundleMaterials(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("bundle %s materials: %w", id, err)
	}
	for _, m := range materials {
		p.Materials = append(p.Materials, MaterialEntry(m))
	}
	promises, err := st.BundlePromises(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("bundle %s promises: %w", id, err)
	}
	for _, r := range promises {
		p.Promises = append(p.Promises, PromiseEntry(r))
	}
	history, err := st.History(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("bundle %s history: %w", id, err)
	}
	for _, h := range history {
		p.History = append(p.History, HistoryEntry(h))
	}
	return &p, nil
}

// MaterialFile is a supplied document's bytes, as stored.
type MaterialFile struct {
	MediaType string
	FileName  string
	Content   []byte
}

// MaterialFile reads document seq of a bundle; ErrNotFound when there is none.
func (s *Service) MaterialFile(ctx context.Context, bundleID string, seq int) (*MaterialFile, error) {
	r, err := s.store().MaterialFile(ctx, bundleID, seq)
	if errors.Is(err, store.ErrNoRows) {
		return nil, fmt.Errorf("material %s/%d: %w", bundleID, seq, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("material %s/%d: %w", bundleID, seq, err)
	}
	m := MaterialFile(r)
	return &m, nil
}

// BundleOutcome is a bundle's status and who decided it (their name when
// they are staff, "" when nobody has), for telling an officer who was first.
func (s *Service) BundleOutcome(ctx context.Context, id string) (status, decidedBy string, err error) {
	status, by, err := s.store().BundleOutcome(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		err = fmt.Errorf("bundle %s: %w", id, ErrNotFound)
	}
	return status, by.String, err
}

// UnitExcerpt is one unit as the register (登记簿) records it today.
type UnitExcerpt struct {
	Number        string
	Location      string
	Use           string
	Area          string
	TitleNumber   string
	OwnershipForm string
	Mortgageable  bool
	Found         bool
	BankTitle     string // the title certificate number the bank sent
	Owners        []OwnerEntry
	Mortgages     []MortgageEntry
	Seizures      []SeizureEntry
	Objections    []ObjectionEntry
	Prereg        []PreregEntry
}

// Restricted reports whether anything stands on the unit that blocks or
// qualifies a new mortgage.
func (u *UnitExcerpt) Restricted() bool {
	return len(u.Seizures) > 0 || len(u.Objections) > 0 || len(u.Prereg) > 0 || !u.Mortgageable
}

// OwnerEntry is a registered owner of a unit.
type OwnerEntry struct {
	Unit     string
	Name     string
	IDType   string
	IDNumber string
	ShareNum sql.NullInt64
	ShareDen sql.NullInt64
}

// Share is the owner's share, "1/2", or "".
func (o OwnerEntry) Share() string {
	if !o.ShareNum.Valid {
		return ""
	}
	return fmt.Sprintf("%d/%d", o.ShareNum.Int64, o.ShareDen.Int64)
}

// MortgageEntry is a current mortgage right on a unit, with its rank there.
type MortgageEntry struct {
	Unit         string
	Rank         int
	ID           int64
	Certificate  sql.NullString
	Kind         string
	PrincipalFen sql.NullInt64
	MaximumFen   sql.NullInt64
	Mortgagee    string
	DebtStart    time.Time
	DebtEnd      time.Time
	RegisteredAt time.Time
	ThisBundle   bool // the right the bundle on the page registered
}

// AmountFen is the secured amount: principal, or the maximum for a maximum-amount mortgage.
func (m MortgageEntry) AmountFen() int64 {
	if m.PrincipalFen.Valid {
		return m.PrincipalFen.Int64
	}
	return m.MaximumFen.Int64
}

// SeizureEntry is a current seizure (查封).
type SeizureEntry struct {
	Unit      string
	Authority string
	Document  string
	From      time.Time
	Until     sql.NullTime
}

// ObjectionEntry is a current objection (异议登记).
type ObjectionEntry struct {
	Unit       string
	Applicant  string
	Matter     string
	Registered time.Time
	Expires    sql.NullTime
}

// PreregEntry is a current pre-registration (预告登记).
type PreregEntry struct {
	Unit       string
	Kind       string
	Holder     string
	HolderID   string
	Registered time.Time
}

// KindLabel names the pre-registration kind.
func (p PreregEntry) KindLabel() string {
	if p.Kind == "purchase" {
		return "预购商品房预告登记"
	}
	return "预购商品房抵押权预告登记"
}

// readExcerpts reads the register for the application's units, in the
// application's order. ownMortgage marks the right this bundle registered.
func readExcerpts(ctx context.Context, st *store.Store, units []UnitRef, today time.Time, ownMortgage int64) ([]*UnitExcerpt, error) {
	numbers := make([]string, len(units))
	for i, u := range units {
		numbers[i] = u.UnitNumber
	}
	found, err := st.ExcerptUnits(ctx, numbers)
	if err != nil {
		return nil, fmt.Errorf("register units: %w", err)
	}
	byNumber := map[string]*UnitExcerpt{}
	out := make([]*UnitExcerpt, len(units))
	for i, u := range units {
		out[i] = &UnitExcerpt{Number: u.UnitNumber, BankTitle: u.TitleCertificateNumber}
		for _, f := range found {
			if strings.TrimSpace(f.Number) == u.UnitNumber {
				*out[i] = UnitExcerpt{Number: u.UnitNumber, Location: f.Location, Use: f.Use, Area: f.Area, TitleNumber: f.TitleNumber,
					OwnershipForm: f.OwnershipForm, Mortgageable: f.Mortgageable, Found: true, BankTitle: u.TitleCertificateNumber}
			}
		}
		byNumber[u.UnitNumber] = out[i]
	}
	owners, err := st.ExcerptOwners(ctx, numbers)
	if err != nil {
		return nil, fmt.Errorf("register owners: %w", err)
	}
	for _, o := range owners {
		if u := byNumber[strings.TrimSpace(o.Unit)]; u != nil {
			u.Owners = append(u.Owners, OwnerEntry(o))
		}
	}
	ms, err := st.ExcerptMortgages(ctx, numbers)
	if err != nil {
		return nil, fmt.Errorf("register mortgages: %w", err)
	}
	for _, r := range ms {
		m := MortgageEntry{Unit: r.Unit, Rank: r.Rank, ID: r.ID, Certificate: r.Certificate, Kind: r.Kind,
			PrincipalFen: r.PrincipalFen, MaximumFen: r.MaximumFen, Mortgagee: r.Mortgagee,
			DebtStart: r.DebtStart, DebtEnd: r.DebtEnd, RegisteredAt: r.RegisteredAt}
		m.ThisBundle = ownMortgage != 0 && m.ID == ownMortgage
		if u := byNumber[strings.TrimSpace(m.Unit)]; u != nil {
			u.Mortgages = append(u.Mortgages, m)
		}
	}
	ss, err := st.ExcerptSeizures(ctx, numbers, today)
	if err != nil {
		return nil, fmt.Errorf("register seizures: %w", err)
	}
	for _, x := range ss {
		if u := byNumber[strings.TrimSpace(x.Unit)]; u != nil {
			u.Seizures = append(u.Seizures, SeizureEntry(x))
		}
	}
	os, err := st.ExcerptObjections(ctx, numbers, today)
	if err != nil {
		return nil, fmt.Errorf("register objections: %w", err)
	}
	for _, x := range os {
		if u := byNumber[strings.TrimSpace(x.Unit)]; u != nil {
			u.Objections = append(u.Objections, ObjectionEntry(x))
		}
	}
	ps, err := st.ExcerptPreregistrations(ctx, numbers, today)
	if err != nil {
		return nil, fmt.Errorf("register pre-registrations: %w", err)
	}
	for _, x := range ps {
		if u := byNumber[strings.TrimSpace(x.Unit)]; u != nil {
			u.Prereg = append(u.Prereg, PreregEntry(x))
		}
	}
	return out, nil
}

// NeedsMaterial reports whether the bundle's registration cannot do without
// a document of the kind, under this centre's strict rules.
func (p *BundlePage) NeedsMaterial(kind string) bool {
	return p.App.NeedsMaterial(kind, p.strict)
}
