package mortgage

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// Type is the kind of registration applied for.
type Type string

// The registration types this server decides.
const (
	FirstGeneral Type = "mortgage_first_general" // 一般抵押权首次登记
	FirstMaximum Type = "mortgage_first_maximum" // 最高额抵押权首次登记
	Cancellation Type = "mortgage_cancellation"  // 抵押权注销登记
)

// Known reports whether t is a registration type this server decides.
func (t Type) Known() bool { return t == FirstGeneral || t == FirstMaximum || t == Cancellation }

// IsFirst reports whether t creates a new mortgage right.
func (t Type) IsFirst() bool { return t == FirstGeneral || t == FirstMaximum }

// Label is the Chinese name of the type, for people.
func (t Type) Label() string {
	switch t {
	case FirstGeneral:
		return "一般抵押权首次登记"
	case FirstMaximum:
		return "最高额抵押权首次登记"
	case Cancellation:
		return "抵押权注销登记"
	}
	return string(t)
}

// ID document kinds (证件种类, ZJZL) as the registration forms number them.
const (
	IDResident   = "1" // 居民身份证
	IDHKMOTW     = "2" // 港澳台身份证
	IDPassport   = "3" // 护照
	IDHousehold  = "4" // 户口簿
	IDMilitary   = "5" // 军官证
	IDOrgCode    = "6" // 组织机构代码
	IDCreditCode = "7" // 营业执照 / 统一社会信用代码
	IDOther      = "99"
)

// Collateral kinds (抵押不动产类型, DYBDCLX).
var CollateralKinds = map[string]string{
	"1": "土地", "2": "土地和房屋", "3": "林地和林木", "4": "土地和在建建筑物",
	"5": "海域", "6": "海域和构筑物", "7": "其他",
}

// Date is a calendar date without a time zone ("2026-11-26").
type Date struct{ time.Time }

// NewDate makes the date y-m-d.
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// DateOf is the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	t = t.In(loc)
	return NewDate(t.Year(), t.Month(), t.Day())
}

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date must be YYYY-MM-DD")
	}
	return Date{t}, nil
}

func (d Date) String() string { return d.Format(time.DateOnly) }

// MarshalJSON writes "2006-01-02".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "2006-01-02".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDate(s)
	*d = v
	return err
}

// Party is a person or organisation named on an application.
type Party struct {
	Name     string `json:"name"`
	IDType   string `json:"idType"`
	IDNumber string `json:"idNumber"`
}

// UnitRef names a property unit and the title certificate the applicant holds for it.
type UnitRef struct {
	UnitNumber             string `json:"unitNumber"`
	TitleCertificateNumber string `json:"titleCertificateNumber,omitempty"`
}

// Terms are the particulars of a new mortgage right.
type Terms struct {
	CollateralKind     string `json:"collateralKind"`         // DYBDCLX
	PrincipalFen       int64  `json:"principalFen,omitempty"` // BDBZZQSE, general mortgages
	MaximumFen         int64  `json:"maximumFen,omitempty"`   // ZGZQSE, maximum-amount mortgages
	DebtStart          Date   `json:"debtStart"`              // ZWLXQSSJ
	DebtEnd            Date   `json:"debtEnd"`                // ZWLXJSSJ
	Scope              string `json:"scope"`                  // DBFW, 担保范围
	TransferRestricted *bool  `json:"transferRestricted"`     // 是否存在禁止或限制转让抵押不动产的约定
}

// CancellationTerms name the mortgage to cancel and why.
type CancellationTerms struct {
	CertificateNumber string `json:"certificateNumber"` // BDCDJZMH
	Reason            string `json:"reason"`            // ZXDYYY
}

// Material is a document carried with the application. Content is not part
// of the canonical form: its SHA-256 stands for it.
type Material struct {
	Kind      string `json:"kind"`
	FileName  string `json:"fileName"`
	MediaType string `json:"mediaType"`
	SHA256    string `json:"sha256"` // lower-case hex, as declared and verified
	Content   []byte `json:"-"`
}

// Promise is a document the applicant promises to supply later (容缺受理).
type Promise struct {
	Kind  string `json:"kind"`
	DueOn Date   `json:"dueOn"`
}

// Application is the canonical mortgage registration application: every
// partner format decodes into it, and validation and registration see only it.
type Application struct {
	Reference    string             `json:"reference"`
	Type         Type               `json:"type"`
	Units        []UnitRef          `json:"units"`
	Mortgagors   []Party            `json:"mortgagors,omitempty"`
	Mortgagee    Party              `json:"mortgagee"`
	Debtors      []Party            `json:"debtors,omitempty"`
	Agent        *Party             `json:"agent,omitempty"`
	Mortgage     *Terms             `json:"mortgage,omitempty"`
	Cancellation *CancellationTerms `json:"cancellation,omitempty"`
	FeeExemption string             `json:"feeExemption,omitempty"`
	Remarks      string             `json:"remarks,omitempty"`
	Materials    []Material         `json:"materials"`
	// Promises are documents promised for later; such a bundle goes to staff.
	Promises []Promise `json:"promises,omitempty"`
	// ReviewRequest, when set, asks for a person to decide, and says why.
	ReviewRequest string `json:"reviewRequest,omitempty"`
}

// Canonical is the application's canonical JSON (materials by hash only).
func (a *Application) Canonical() []byte {
	b, err := json.Marshal(a)
	if err != nil {
		panic(fmt.Sprintf("canonical application: %v", err)) // plain structs always marshal
	}
	return b
}

// ContentHash identifies the application's content for idempotency: the same
// reference with the same hash is a retry, with another hash a conflict.
func (a *Application) ContentHash() []byte {
	h := sha256.Sum256(a.Canonical())
	return h[:]
}

// Promised reports whether a document of the kind is promised for later.
func (a *Application) Promised(kind string) bool {
	for _, p := range a.Promises {
		if p.Kind == kind {
			return true
		}
	}
	return false
}

// HasMaterial reports whether a document of the kind was supplied.
func (a *Application) HasMaterial(kind string) bool {
	for _, m := range a.Materials {
		if m.Kind == kind {
			return true
		}
	}
	return false
}
