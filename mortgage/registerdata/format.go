package registerdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"mortgaged/mortgage"
)

// Unit is one line of the register file: a property unit with its owners and
// the rights and restrictions recorded on it. Field names are those of the
// file; see docs/register-import.md.
type Unit struct {
	UnitNumber             string            `json:"unitNumber"`
	Location               string            `json:"location"`
	Use                    string            `json:"use"`
	AreaM2                 Decimal           `json:"areaM2"`
	TitleCertificateNumber string            `json:"titleCertificateNumber"`
	OwnershipForm          string            `json:"ownershipForm"`
	Mortgageable           *bool             `json:"mortgageable"` // absent means true
	Owners                 []Owner           `json:"owners"`
	Mortgages              []Mortgage        `json:"mortgages,omitempty"`
	Seizures               []Seizure         `json:"seizures,omitempty"`
	Objections             []Objection       `json:"objections,omitempty"`
	Preregistrations       []Preregistration `json:"preregistrations,omitempty"`
}

// Owner is a holder of the title (权利人); Share is "n/d" for ownership in shares only.
type Owner struct {
	Name     string `json:"name"`
	IDType   string `json:"idType"`
	IDNumber string `json:"idNumber"`
	Share    string `json:"share,omitempty"`
}

// Party is the owner as a mortgage.Party, the shape applications use.
func (o Owner) Party() mortgage.Party {
	return mortgage.Party{Name: o.Name, IDType: o.IDType, IDNumber: o.IDNumber}
}

// Mortgage is a current mortgage right on the unit. Its mortgagors and
// debtors are the unit's owners; the same certificate number on several
// lines is one right covering several units.
type Mortgage struct {
	CertificateNumber  string         `json:"certificateNumber"` // BDCDJZMH
	Kind               string         `json:"kind"`              // general | maximum (DYFS)
	CollateralKind     string         `json:"collateralKind"`    // DYBDCLX 1–7
	PrincipalAmount    Decimal        `json:"principalAmount"`   // general only, yuan
	MaximumAmount      Decimal        `json:"maximumAmount"`     // maximum only, yuan
	DebtStart          string         `json:"debtStart"`
	DebtEnd            string         `json:"debtEnd"`
	Scope              string         `json:"scope"`
	TransferRestricted *bool          `json:"transferRestricted"`
	Mortgagee          mortgage.Party `json:"mortgagee"`
	Rank               int            `json:"rank"` // DYSW on this unit
	RegisteredAt       string         `json:"registeredAt"`
	RecordingOfficer   string         `json:"recordingOfficer"`
}

// Seizure is a court's seizure (查封); Until is empty when open-ended.
type Seizure struct {
	Authority      string `json:"authority"`
	DocumentNumber string `json:"documentNumber"`
	From           string `json:"from"`
	Until          string `json:"until,omitempty"`
}

// Objection is an objection registration (异议登记); ExpiresOn is empty when
// it stands until cancelled (the applicant sued within the 15 days).
type Objection struct {
	Applicant    string `json:"applicant"`
	Matter       string `json:"matter"`
	RegisteredOn string `json:"registeredOn"`
	ExpiresOn    string `json:"expiresOn,omitempty"`
}

// Preregistration is a pre-registration (预告登记) in someone's favour.
type Preregistration struct {
	Kind           string `json:"kind"` // purchase | mortgage
	HolderName     string `json:"holderName"`
	HolderIDType   string `json:"holderIdType"`
	HolderIDNumber string `json:"holderIdNumber"`
	RegisteredOn   string `json:"registeredOn"`
}

// Decimal is an exact decimal as written in the file: a JSON string
// ("89.50") or a plain JSON number, kept as text so no float is involved.
// null or absent is "".
type Decimal string

// UnmarshalJSON keeps the number's text; any JSON type other than a string,
// a number or null is an error.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*d = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*d = Decimal(s)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*d = Decimal(b)
	default:
		// The decoder adds the field path to a type error.
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: decimalType}
	}
	return nil
}

var decimalType = reflect.TypeFor[Decimal]()

func jsonKind(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	}
	return "value"
}

// MarshalJSON writes a string, or null when empty.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(d))
}

// Value lists of the format.
var (
	unitUses = map[string]bool{"residential": true, "garage": true, "parking": true, "storeroom": true,
		"commercial": true, "office": true, "industrial": true, "land": true, "other": true}
	idTypes = map[string]bool{mortgage.IDResident: true, mortgage.IDHKMOTW: true, mortgage.IDPassport: true,
		mortgage.IDHousehold: true, mortgage.IDMilitary: true, mortgage.IDOrgCode: true,
		mortgage.IDCreditCode: true, mortgage.IDOther: true}
)

// Limits that keep one line to what a register can hold; they also keep
// every value inside its column (int4, numeric(12,2), valid dates).
const (
	maxListLen       = 100                    // owners, mortgages, seizures… per unit
	maxShareDen      = 1_000_000              // share denominators
	maxShareTextLen  = len("1000000/1000000") // longest share text
	maxRank          = 1000                   // 顺位
	maxAreaCenti     = 999999999999           // numeric(12,2)
	minYear, maxYear = 1900, 2200             // dates and times
	maxTextRunes     = 500                    // free text
	maxNameRunes     = 100                    // names, authorities, officers
	maxIDRunes       = 40                     // identity numbers other than resident IDs and credit codes
)

// record is a checked line, normalised and ready to load.
type record struct {
	line         int
	unitNumber   string
	location     string
	use          string
	area         string // canonical "89.50"
	title        string // normalised certificate number
	form         string
	mortgageable bool
	owners       []ownerRow
	mortgages    []rankedMortgage
	seizures     []Seizure         // dates checked and canonical; Until "" is NULL
	objections   []Objection       // likewise ExpiresOn
	preregs      []Preregistration // holder normalised
}

type ownerRow struct {
	party    mortgage.Party
	num, den int // 0/0 when not in shares
}

type rankedMortgage struct {
	m     *mortgageRow
	rank  int
	field string // "mortgages[i]", to name the entry in cross-line errors
}

// mortgageRow is one mortgage right; lines sharing a certificate number
// share one row.
type mortgageRow struct {
	cert               string // normalised; "" is NULL and never shared
	kind               string
	collateral         string
	principal, maximum int64 // fen; 0 is NULL
	debtStart, debtEnd string
	scope              string
	transferRestricted bool
	mortgagee          mortgage.Party
	registeredAt       time.Time
	officer            string

	firstLine int
	parties   []mortgage.Party // owners of every unit it covers: mortgagors and debtors
	id        int64
}

// sameTerms reports the first particular in which two rows with one
// certificate number differ, or "".
func (a *mortgageRow) sameTerms(b *mortgageRow) string {
	switch {
	case a.kind != b.kind:
		return "kind"
	case a.collateral != b.collateral:
		return "collateralKind"
	case a.principal != b.principal:
		return "principalAmount"
	case a.maximum != b.maximum:
		return "maximumAmount"
	case a.debtStart != b.debtStart:
		return "debtStart"
	case a.debtEnd != b.debtEnd:
		return "debtEnd"
	case a.scope != b.scope:
		return "scope"
	case a.transferRestricted != b.transferRestricted:
		return "transferRestricted"
	case a.mortgagee != b.mortgagee:
		return "mortgagee"
	case !a.registeredAt.Equal(b.registeredAt):
		return "registeredAt"
	case a.officer != b.officer:
		return "recordingOfficer"
	}
	return ""
}

// LineError is one fault in the file: the 1-based line, the field path
// within the line ("owners[1].idNumber"; "" for the whole line) and a
// message for people.
type LineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error renders the fault as "line 5: owners[1].idNumber: message".
func (e LineError) Error() string {
	switch {
	case e.Line == 0 && e.Field == "":
		return e.Message
	case e.Line == 0:
		return e.Field + ": " + e.Message
	case e.Field == "":
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// faults collects the faults of one line.
type faults []LineError

func (f *faults) add(field, format string, args ...any) {
	*f = append(*f, LineError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// ParseLine decodes and checks one line of the register file on its own,
// without the other lines or the database. It returns the decoded unit (nil
// when the line is not a JSON object of the format) and every fault, with
// Line left 0.
func ParseLine(line []byte) (*Unit, []LineError) {
	u, _, fs := parseLine(line, time.Now())
	return u, fs
}

// parseLine is ParseLine with the date that birth dates must not pass.
func parseLine(line []byte, today time.Time) (*Unit, *record, faults) {
	var u Unit
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return nil, nil, faults{decodeFault(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, faults{{Message: "一行只能有一个 JSON 对象，对象之后还有多余内容"}}
	}
	var f faults
	rec := checkUnit(&f, &u, today)
	if len(f) > 0 {
		return &u, nil, f
	}
	return &u, rec, nil
}

func decodeFault(err error) LineError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return LineError{Message: fmt.Sprintf("不是有效的 JSON（第 %d 字节附近）：%v", se.Offset, se)}
	case errors.As(err, &te) && te.Type == decimalType:
		return LineError{Field: te.Field, Message: fmt.Sprintf("数值应写成字符串（如 \"89.50\"）、数字或 null，实为 JSON %s", te.Value)}
	case errors.As(err, &te):
		if te.Field == "" {
			return LineError{Message: "每行应为一个 JSON 对象"}
		}
		return LineError{Field: te.Field, Message: fmt.Sprintf("类型错误：应为 %s，实为 JSON %s", te.Type, te.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return LineError{Message: "JSON 对象不完整"}
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return LineError{Field: name, Message: "未知字段 " + name}
	}
	return LineError{Message: "JSON 解析失败：" + err.Error()}
}

// checkUnit checks everything one line can say about itself and returns the
// normalised record; faults go into f.
func checkUnit(f *faults, u *Unit, today time.Time) *record {
	r := &record{unitNumber: u.UnitNumber, use: u.Use, form: u.OwnershipForm, mortgageable: true}
	if u.Mortgageable != nil {
		r.mortgageable = *u.Mortgageable
	}
	switch {
	case u.UnitNumber == "":
		f.add("unitNumber", "必填")
	case mortgage.CheckUnitNumber(u.UnitNumber) != "":
		f.add("unitNumber", "不动产单元号“%s”不符合 GB/T 37346 的 28 位结构", mortgage.Clip(u.UnitNumber))
	}
	r.location = text(f, "location", u.Location, true, maxTextRunes)
	if !unitUses[u.Use] {
		f.add("use", "用途“%s”无效，应为 residential、garage、parking、storeroom、commercial、office、industrial、land 或 other", mortgage.Clip(u.Use))
	}
	r.area = area(f, "areaM2", u.AreaM2)
	r.title = certificate(f, "titleCertificateNumber", u.TitleCertificateNumber, mortgage.CertTitle, true)
	r.owners = checkOwners(f, u, today)

	for _, list := range []struct {
		name string
		n    int
	}{{"mortgages", len(u.Mortgages)}, {"seizures", len(u.Seizures)}, {"objections", len(u.Objections)}, {"preregistrations", len(u.Preregistrations)}} {
		if list.n > maxListLen {
			f.add(list.name, "每个单元最多 %d 项", maxListLen)
			return r
		}
	}
	rankAt := map[int]int{}
	certAt := map[string]int{}
	for i, m := range u.Mortgages {
		p := fmt.Sprintf("mortgages[%d]", i)
		row := checkMortgage(f, p, m, today)
		if m.Rank < 1 || m.Rank > maxRank {
			f.add(p+".rank", "顺位应为 1 到 %d 的整数", maxRank)
		} else if j, dup := rankAt[m.Rank]; dup {
			f.add(p+".rank", "现势抵押权的顺位 %d 与 mortgages[%d] 重复", m.Rank, j)
		} else {
			rankAt[m.Rank] = i
		}
		if row.cert != "" {
			if j, dup := certAt[row.cert]; dup {
				f.add(p+".certificateNumber", "与 mortgages[%d] 的不动产登记证明号重复", j)
			}
			certAt[row.cert] = i
		}
		r.mortgages = append(r.mortgages, rankedMortgage{m: row, rank: m.Rank, field: p})
	}
	for i, s := range u.Seizures {
		p := fmt.Sprintf("seizures[%d]", i)
		s.Authority = text(f, p+".authority", s.Authority, true, maxNameRunes)
		s.DocumentNumber = text(f, p+".documentNumber", s.DocumentNumber, true, maxNameRunes)
		s.From, s.Until = period(f, p, "from", s.From, "until", s.Until)
		r.seizures = append(r.seizures, s)
	}
	for i, o := range u.Objections {
		p := fmt.Sprintf("objections[%d]", i)
		o.Applicant = text(f, p+".applicant", o.Applicant, true, maxNameRunes)
		o.Matter = text(f, p+".matter", o.Matter, true, maxTextRunes)
		o.RegisteredOn, o.ExpiresOn = period(f, p, "registeredOn", o.RegisteredOn, "expiresOn", o.ExpiresOn)
		r.objections = append(r.objections, o)
	}
	for i, pr := range u.Preregistrations {
		p := fmt.Sprintf("preregistrations[%d]", i)
		if pr.Kind != "purchase" && pr.Kind != "mortgage" {
			f.add(p+".kind", "预告登记种类“%s”无效，应为 purchase 或 mortgage", mortgage.Clip(pr.Kind))
		}
		h := checkPartyFields(f, p+".holderName", p+".holderIdType", p+".holderIdNumber",
			mortgage.Party{Name: pr.HolderName, IDType: pr.HolderIDType, IDNumber: pr.HolderIDNumber}, today)
		pr.HolderName, pr.HolderIDType, pr.HolderIDNumber = h.Name, h.IDType, h.IDNumber
		pr.RegisteredOn = date(f, p+".registeredOn", pr.RegisteredOn, true)
		r.preregs = append(r.preregs, pr)
	}
	return r
}

// checkOwners applies the ownership-form rules: sole has one owner, joint
// two or more without shares, shares two or more whose shares sum to 1.
func checkOwners(f *faults, u *Unit, today time.Time) []ownerRow {
	switch u.OwnershipForm {
	case "sole", "joint", "shares":
	default:
		f.add("ownershipForm", "共有方式“%s”无效，应为 sole（单独所有）、joint（共同共有）或 shares（按份共有）", mortgage.Clip(u.OwnershipForm))
	}
	n := len(u.Owners)
	switch {
	case n == 0:
		f.add("owners", "至少需要一名权利人")
		return nil
	case n > maxListLen:
		f.add("owners", "每个单元最多 %d 名权利人", maxListLen)
		return nil
	case u.OwnershipForm == "sole" && n != 1:
		f.add("owners", "单独所有应恰有一名权利人（现有 %d 名）", n)
	case (u.OwnershipForm == "joint" || u.OwnershipForm == "shares") && n < 2:
		f.add("owners", "共有应至少有两名权利人（现有 %d 名）", n)
	}
	rows := make([]ownerRow, 0, n)
	seen := map[string]int{}
	sum := new(big.Rat)
	sharesOK := true
	for i, o := range u.Owners {
		p := fmt.Sprintf("owners[%d]", i)
		row := ownerRow{party: checkParty(f, p, o.Party(), today)}
		key := row.party.IDType + "\x00" + row.party.IDNumber
		if j, dup := seen[key]; dup && row.party.IDNumber != "" {
			f.add(p+".idNumber", "与 owners[%d] 的证件号码重复", j)
		}
		seen[key] = i
		switch {
		case u.OwnershipForm != "shares" && o.Share != "":
			f.add(p+".share", "只有按份共有（shares）才填写份额")
		case u.OwnershipForm == "shares":
			num, den, ok := parseShare(o.Share)
			if !ok {
				f.add(p+".share", "份额“%s”无效，应为“n/d”形式的真分数，如 1/2、2/3", mortgage.Clip(o.Share))
				sharesOK = false
				break
			}
			row.num, row.den = num, den
			sum.Add(sum, big.NewRat(int64(num), int64(den)))
		}
		rows = append(rows, row)
	}
	if u.OwnershipForm == "shares" && sharesOK && n >= 2 && sum.Cmp(big.NewRat(1, 1)) != 0 {
		f.add("owners", "按份共有的份额之和应恰为 1（现为 %s）", sum.RatString())
	}
	return rows
}

// parseShare reads "n/d" with 0 < n ≤ d ≤ 1,000,000.
func parseShare(s string) (num, den int, ok bool) {
	if len(s) > maxShareTextLen {
		return 0, 0, false
	}
	a, b, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	num, ok1 := digits(a)
	den, ok2 := digits(b)
	if !ok1 || !ok2 || num < 1 || den < num || den > maxShareDen {
		return 0, 0, false
	}
	return num, den, true
}

func digits(s string) (int, bool) {
	if s == "" || len(s) > 7 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func checkMortgage(f *faults, p string, m Mortgage, today time.Time) *mortgageRow {
	row := &mortgageRow{kind: m.Kind, collateral: m.CollateralKind}
	row.cert = certificate(f, p+".certificateNumber", m.CertificateNumber, mortgage.CertRegistration, false)
	if _, ok := mortgage.CollateralKinds[m.CollateralKind]; !ok {
		f.add(p+".collateralKind", "抵押不动产类型“%s”无效，应为 1–7", mortgage.Clip(m.CollateralKind))
	}
	switch m.Kind {
	case "general":
		row.principal = amount(f, p+".principalAmount", m.PrincipalAmount, true)
		if m.MaximumAmount != "" {
			f.add(p+".maximumAmount", "一般抵押不填写最高债权额")
		}
	case "maximum":
		row.maximum = amount(f, p+".maximumAmount", m.MaximumAmount, true)
		if m.PrincipalAmount != "" {
			f.add(p+".principalAmount", "最高额抵押不填写被担保主债权数额")
		}
	default:
		f.add(p+".kind", "抵押方式“%s”无效，应为 general（一般抵押）或 maximum（最高额抵押）", mortgage.Clip(m.Kind))
	}
	row.debtStart = date(f, p+".debtStart", m.DebtStart, true)
	row.debtEnd = date(f, p+".debtEnd", m.DebtEnd, true)
	if row.debtStart != "" && row.debtEnd != "" && row.debtEnd < row.debtStart {
		f.add(p+".debtEnd", "债务履行期限结束日期 %s 早于起始日期 %s", row.debtEnd, row.debtStart)
	}
	row.scope = text(f, p+".scope", m.Scope, true, maxTextRunes)
	if m.TransferRestricted == nil {
		f.add(p+".transferRestricted", "必填：是否约定禁止或限制转让抵押不动产")
	} else {
		row.transferRestricted = *m.TransferRestricted
	}
	row.mortgagee = checkParty(f, p+".mortgagee", m.Mortgagee, today)
	if m.RegisteredAt == "" {
		f.add(p+".registeredAt", "必填")
	} else if t, err := time.Parse(time.RFC3339, m.RegisteredAt); err != nil || t.Year() < minYear || t.Year() > maxYear {
		f.add(p+".registeredAt", "登簿时间“%s”无效，应为 RFC 3339 格式，如 2021-03-02T10:00:00+08:00", mortgage.Clip(m.RegisteredAt))
	} else {
		row.registeredAt = t
	}
	row.officer = text(f, p+".recordingOfficer", m.RecordingOfficer, true, maxNameRunes)
	return row
}

// checkParty checks a party at path p (fields p.name, p.idType, p.idNumber).
func checkParty(f *faults, p string, party mortgage.Party, today time.Time) mortgage.Party {
	return checkPartyFields(f, p+".name", p+".idType", p+".idNumber", party, today)
}

// checkPartyFields checks a name and an identity document and returns the
// party trimmed, with the number in canonical case; only resident IDs and
// credit codes have check characters, other documents need only a number.
func checkPartyFields(f *faults, nameField, typeField, idField string, party mortgage.Party, today time.Time) mortgage.Party {
	party.Name = text(f, nameField, party.Name, true, maxNameRunes)
	party.IDNumber = strings.TrimSpace(party.IDNumber)
	if party.IDType == mortgage.IDResident || party.IDType == mortgage.IDCreditCode {
		party.IDNumber = strings.ToUpper(party.IDNumber) // a lower-case x is the same number
	}
	switch {
	case party.IDType == "":
		f.add(typeField, "必填")
	case !idTypes[party.IDType]:
		f.add(typeField, "证件种类“%s”无效，应为 1–7 或 99", mortgage.Clip(party.IDType))
	}
	switch {
	case party.IDNumber == "":
		f.add(idField, "必填")
	case party.IDType == mortgage.IDResident:
		switch mortgage.CheckResidentID(party.IDNumber, today) {
		case mortgage.CodeIDFormat:
			f.add(idField, "居民身份证号码应为 18 位（前 17 位数字，末位数字或 X）")
		case mortgage.CodeIDCheckDigit:
			f.add(idField, "居民身份证号码校验码错误")
		case mortgage.CodeIDBirthDate:
			f.add(idField, "居民身份证号码中的出生日期无效")
		}
	case party.IDType == mortgage.IDCreditCode:
		switch mortgage.CheckCreditCode(party.IDNumber) {
		case mortgage.CodeCreditFormat:
			f.add(idField, "统一社会信用代码应为 18 位，且不含 I、O、Z、S、V")
		case mortgage.CodeCreditCheck:
			f.add(idField, "统一社会信用代码校验码错误")
		}
	default:
		text(f, idField, party.IDNumber, true, maxIDRunes)
	}
	return party
}

// text checks a free-text value: present when required, not too long, no
// control characters (PostgreSQL text cannot hold NUL). It returns s trimmed.
func text(f *faults, field, s string, required bool, max int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			f.add(field, "必填")
		}
		return s
	}
	if n := utf8.RuneCountInString(s); n > max {
		f.add(field, "不能超过 %d 个字符（现为 %d 个）", max, n)
		return s
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			f.add(field, "含有控制字符")
			break
		}
	}
	return s
}

// certificate parses a certificate number of the given kind and returns its
// normalised form (half-width brackets).
func certificate(f *faults, field, s string, kind mortgage.CertKind, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			f.add(field, "必填")
		}
		return ""
	}
	c, err := mortgage.ParseCertificateNumber(s)
	if err != nil || c.Kind != kind {
		example := "黑(2020)齐齐哈尔市不动产权第0000001号"
		if kind == mortgage.CertRegistration {
			example = "黑(2021)齐齐哈尔市不动产证明第0000042号"
		}
		f.add(field, "%s号“%s”格式不正确，应如 %s", kind, mortgage.Clip(s), example)
		return ""
	}
	return c.String()
}

// date parses YYYY-MM-DD within the years the database and common sense allow.
func date(f *faults, field, s string, required bool) string {
	if s == "" {
		if required {
			f.add(field, "必填")
		}
		return ""
	}
	d, err := mortgage.ParseDate(s)
	if err != nil || d.Year() < minYear || d.Year() > maxYear {
		f.add(field, "日期“%s”无效，应为 YYYY-MM-DD 格式的真实日期", mortgage.Clip(s))
		return ""
	}
	return d.String()
}

// period checks a start date and an optional end date not before it.
func period(f *faults, p, startName, start, endName, end string) (string, string) {
	start = date(f, p+"."+startName, start, true)
	end = date(f, p+"."+endName, end, false)
	if start != "" && end != "" && end < start {
		f.add(p+"."+endName, "结束日期 %s 早于开始日期 %s", end, start)
	}
	return start, end
}

// amount reads an exact positive yuan amount into fen.
func amount(f *faults, field string, d Decimal, required bool) int64 {
	if d == "" {
		if required {
			f.add(field, "必填")
		}
		return 0
	}
	fen, err := mortgage.ParseYuan(string(d))
	switch {
	case err != nil:
		f.add(field, "金额“%s”格式不正确，应为以元为单位、最多两位小数的数字，如 \"300000.00\"", mortgage.Clip(string(d)))
	case fen <= 0:
		f.add(field, "金额必须大于零")
	case fen > mortgage.MaxAmountFen:
		f.add(field, "金额超过上限")
	default:
		return fen
	}
	return 0
}

// area reads a positive area with at most two decimals; ParseYuan is an
// exact two-decimal parser, which is all an area needs.
func area(f *faults, field string, d Decimal) string {
	if d == "" {
		f.add(field, "必填")
		return ""
	}
	centi, err := mortgage.ParseYuan(string(d))
	switch {
	case err != nil:
		f.add(field, "面积“%s”格式不正确，应为最多两位小数的平方米数，如 \"89.50\"", mortgage.Clip(string(d)))
	case centi <= 0:
		f.add(field, "面积必须大于零")
	case centi > maxAreaCenti:
		f.add(field, "面积超过上限")
	default:
		return mortgage.FormatYuan(centi)
	}
	return ""
}
