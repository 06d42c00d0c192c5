package mortgage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"mortgaged/mortgage/certificate"
	"mortgaged/mortgage/store"
)

// The certificate document and its renderings are package certificate's;
// these names keep the domain's vocabulary for them.
type (
	Certificate         = certificate.Document
	CertificateParty    = certificate.Party
	CertificateUnit     = certificate.Unit
	CertificateMortgage = certificate.Mortgage
	Signer              = certificate.Signer
)

// CertificateFormat and CertificateNamespace name the document's version
// and its XML namespace.
const (
	CertificateFormat    = certificate.Format
	CertificateNamespace = certificate.Namespace
)

// Certificate statuses.
const (
	CertificateValid     = "valid"
	CertificateCancelled = "cancelled"
)

// ErrNoSigner is returned by Submit when the service has no Signer: no
// registration may commit without its certificate.
var ErrNoSigner = errors.New("mortgage: Service.Signer is not set; certificates cannot be issued")

// ParseCertificate reads a certificate JSON document, for display. It
// checks nothing: verify the signature over the bytes first.
func ParseCertificate(doc []byte) (*Certificate, error) { return certificate.Parse(doc) }

// IDTypeLabel names an ID document kind (ZJZL) in Chinese, for people.
func IDTypeLabel(code string) string {
	switch code {
	case IDResident:
		return "居民身份证"
	case IDHKMOTW:
		return "港澳台身份证"
	case IDPassport:
		return "护照"
	case IDHousehold:
		return "户口簿"
	case IDMilitary:
		return "军官证"
	case IDOrgCode:
		return "组织机构代码"
	case IDCreditCode:
		return "统一社会信用代码"
	}
	return "其他证件"
}

// verificationAlphabet has no 0/O or 1/I, so a code read aloud or typed
// from paper is not mistaken. 32 symbols: each is exactly 5 random bits.
const verificationAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// VerificationCodeLength is the length of a verification code (50 bits).
const VerificationCodeLength = 10

// NewVerificationCode makes a random verification code.
func NewVerificationCode() string {
	var b [VerificationCodeLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	for i := range b {
		b[i] = verificationAlphabet[b[i]&31] // 256 is a multiple of 32: no bias
	}
	return string(b[:])
}

// NormaliseVerificationCode puts a code as people type it (lower case,
// spaces, hyphens) into its issued form.
func NormaliseVerificationCode(s string) string {
	s = strings.ToUpper(s)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u3000' {
			return -1
		}
		return r
	}, s)
}

func (s *Service) newCode() string {
	if s.NewCode != nil {
		return s.NewCode()
	}
	return NewVerificationCode()
}

// certificateParties copies application parties onto a certificate.
func certificateParties(ps []Party) []CertificateParty {
	out := make([]CertificateParty, len(ps))
	for i, p := range ps {
		out[i] = CertificateParty{Name: strings.TrimSpace(p.Name), IDType: p.IDType, IDNumber: p.IDNumber}
	}
	return out
}

// newCertificate is the content of the certificate for a first
// registration just written into the register.
func (s *Service) newCertificate(app *Application, reg *Registration, units map[string]unitRow) *Certificate {
	t := app.Mortgage
	m := CertificateMortgage{
		Kind: "general", KindLabel: "一般抵押",
		CollateralKind: t.CollateralKind, CollateralKindLabel: CollateralKinds[t.CollateralKind],
		DebtStart: t.DebtStart.String(), DebtEnd: t.DebtEnd.String(), Scope: t.Scope,
		TransferRestricted: t.TransferRestricted != nil && *t.TransferRestricted,
		Debtors:            certificateParties(app.Debtors),
	}
	if app.Type == FirstMaximum {
		m.Kind, m.KindLabel = "maximum", "最高额抵押"
		m.MaximumAmount = FormatYuan(t.MaximumFen)
	} else {
		m.PrincipalAmount = FormatYuan(t.PrincipalFen)
	}
	c := &Certificate{
		Format: CertificateFormat, Title: "不动产登记证明", Number: reg.CertificateNumber, Matter: "抵押权",
		RegistrationType: string(app.Type),
		RightHolder:      certificateParties([]Party{app.Mortgagee})[0],
		Obligors:         certificateParties(app.Mortgagors),
		Mortgage:         m,
		Remarks:          strings.TrimSpace(app.Remarks),
		RegisteredAt:     reg.RegisteredAt.In(s.Config.Location).Format(time.RFC3339),
		RecordingOfficer: reg.RecordingOfficer,
		Authority:        s.Config.Authority,
		VerificationCode: s.newCode(),
	}
	for _, r := range reg.Ranks { // unit-number order
		u := units[r.UnitNumber]
		c.Units = append(c.Units, CertificateUnit{UnitNumber: r.UnitNumber, Location: strings.TrimSpace(u.Location),
			TitleCertificateNumber: normalCert(u.TitleNumber), Rank: r.Rank})
	}
	return c
}

// SignCertificate renders c as JSON and XML and signs both with one key.
func SignCertificate(c *Certificate, signer Signer) (*IssuedCertificate, error) {
	sc, err := certificate.Sign(c, signer)
	if err != nil {
		return nil, err
	}
	return &IssuedCertificate{Number: c.Number, VerificationCode: c.VerificationCode, Status: CertificateValid,
		KeyID: sc.KeyID, JSON: sc.JSON, JSONSignature: sc.JSONSignature, XML: sc.XML, XMLSignature: sc.XMLSignature}, nil
}

// insertCertificate stores an issued certificate in the registration's
// transaction, after its bundle row exists.
func insertCertificate(ctx context.Context, tx *ptx, c *IssuedCertificate, bundleID string, mortgageID int64, partnerID string) error {
	if err := tx.InsertCertificate(ctx, newCertificateRow(c, bundleID, mortgageID, partnerID)); err != nil {
		return fmt.Errorf("insert certificate: %w", err)
	}
	return nil
}

// issued is the certificate a row read back holds.
func issued(r store.CertificateRow) *IssuedCertificate {
	c := &IssuedCertificate{Number: r.Number, VerificationCode: r.VerificationCode, Status: r.Status, KeyID: r.KeyID,
		IssuedAt: r.IssuedAt, JSON: r.JSON, JSONSignature: r.JSONSignature, XML: r.XML, XMLSignature: r.XMLSignature}
	if r.CancelledAt.Valid {
		t := r.CancelledAt.Time
		c.CancelledAt = &t
	}
	return c
}

// cancelCertificate marks the certificate of a cancelled mortgage cancelled
// and returns it; a mortgage imported without an electronic certificate
// has none, and gets nil.
func cancelCertificate(ctx context.Context, tx *ptx, mortgageID int64, at time.Time) (*IssuedCertificate, error) {
	r, err := tx.CancelCertificate(ctx, mortgageID, at)
	if errors.Is(err, store.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cancel certificate: %w", err)
	}
	return issued(r), nil
}

// Certificate returns a partner's certificate as issued; another partner's
// certificate, or none, is ErrNotFound.
func (s *Service) Certificate(ctx context.Context, partnerID, number string) (*IssuedCertificate, error) {
	r, err := s.store().Certificate(ctx, normalCert(strings.TrimSpace(number)), partnerID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	return issued(r), nil
}

// CertificateByCode returns a certificate to whoever holds its number and
// verification code (the print view). A wrong code is ErrNotFound, exactly
// like an unknown number.
func (s *Service) CertificateByCode(ctx context.Context, number, code string) (*IssuedCertificate, error) {
	number, code = normalCert(strings.TrimSpace(number)), NormaliseVerificationCode(code)
	if number == "" || len(code) != VerificationCodeLength {
		return nil, ErrNotFound
	}
	// One query for both: a wrong code and an unknown number take the same path.
	r, err := s.store().CertificateByCode(ctx, number, code)
	if errors.Is(err, store.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	return issued(r), nil
}

// CertificateCheck is the answer of the online check: nothing personal.
type CertificateCheck struct {
	Status      string     // valid, cancelled or unknown
	Number      string     // as issued; empty when unknown
	IssuedAt    time.Time  // zero when unknown
	CancelledAt *time.Time // set when cancelled
	Authority   string     // the issuing authority
}

// CheckUnknown is the status of a number and code that match no certificate.
const CheckUnknown = "unknown"

// CheckCertificate answers the online check (证照核对) for a certificate
// number and verification code: valid, cancelled, or unknown — for an
// unknown number and a wrong code alike, so the check never reveals that a
// number exists.
func (s *Service) CheckCertificate(ctx context.Context, number, code string) (CertificateCheck, error) {
	c, err := s.CertificateByCode(ctx, number, code)
	if errors.Is(err, ErrNotFound) {
		return CertificateCheck{Status: CheckUnknown, Authority: s.Config.Authority}, nil
	}
	if err != nil {
		return CertificateCheck{}, err
	}
	authority := s.Config.Authority
	if doc, err := ParseCertificate(c.JSON); err == nil && doc.Authority != "" {
		authority = doc.Authority // as issued, should the configuration change later
	}
	return CertificateCheck{Status: c.Status, Number: c.Number, IssuedAt: c.IssuedAt, CancelledAt: c.CancelledAt, Authority: authority}, nil
}
