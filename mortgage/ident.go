package mortgage

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validation fault codes for identifiers; stable because clients match on them.
const (
	CodeIDFormat         Code = "id_number_format"          // not 18 chars, or a char outside [0-9] (and X in the last place)
	CodeIDCheckDigit     Code = "id_number_check_digit"     // MOD 11-2 check character does not match
	CodeIDBirthDate      Code = "id_number_birth_date"      // not a real date, before 1800-01-01, or after today
	CodeCreditFormat     Code = "credit_code_format"        // not 18 chars from the GB 32100 alphabet
	CodeCreditCheck      Code = "credit_code_check_digit"   // MOD 31 check character does not match
	CodeUnitNumberFormat Code = "unit_number_format"        // not a GB/T 37346 28-char unit number
	CodeCertNumberFormat Code = "certificate_number_format" // not a parseable 不动产权/不动产证明 number
)

// chinaZone is fixed UTC+8 because mainland China has had no DST since 1991 and
// this avoids depending on the host's tz database for "today".
var chinaZone = time.FixedZone("CST", 8*60*60)

// idWeights are the GB 11643-1999 (ISO 7064 MOD 11-2) weights 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps R = Σ a_i·W_i mod 11 to the check character.
const idCheckChars = "10X98765432"

// ResidentIDCheckChar returns the check character for 17 leading digits, or 0 if they are not 17 ASCII digits, so generators can build valid numbers.
func ResidentIDCheckChar(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// CheckResidentID validates an 18-char resident ID (GB 11643-1999) and returns "" when valid.
//
// Only the canonical upper-case X is accepted; a lower-case x is CodeIDFormat, so
// callers that accept user input should strings.ToUpper it first. The check
// character is verified before the birth date so that any single-character typo
// reports CodeIDCheckDigit (MOD 11-2 catches every single substitution); the birth
// date must be a real calendar date between 1800-01-01 and today's date in China
// (UTC+8) inclusive. The lower bound is 1800, not 1900, because the standard's own
// example 440524188001010014 has birth year 1880.
func CheckResidentID(id string, today time.Time) Code {
	if len(id) != 18 {
		return CodeIDFormat
	}
	for i := 0; i < 17; i++ {
		if !isDigit(id[i]) {
			return CodeIDFormat
		}
	}
	last := id[17]
	if !isDigit(last) && last != 'X' {
		return CodeIDFormat
	}
	if ResidentIDCheckChar(id[:17]) != last {
		return CodeIDCheckDigit
	}
	y, m, d := digits(id[6:10]), digits(id[10:12]), digits(id[12:14])
	if !isCalendarDate(y, m, d) || y < 1800 {
		return CodeIDBirthDate
	}
	ty, tm, td := today.In(chinaZone).Date()
	if y*10000+m*100+d > ty*10000+int(tm)*100+td {
		return CodeIDBirthDate
	}
	return ""
}

// creditAlphabet is the GB 32100-2015 code alphabet; a char's index is its value (I O Z S V are excluded to avoid misreading).
const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditWeights are the GB 32100-2015 weights 3^(i) mod 31.
var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// creditValue returns the value of c in creditAlphabet, or -1, so format and checksum share one lookup.
func creditValue(c byte) int {
	return strings.IndexByte(creditAlphabet, c)
}

// CreditCodeCheckChar returns the check character for 17 leading chars, with false if they are not 17 alphabet chars, so generators can build valid codes.
func CreditCodeCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := creditValue(first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * creditWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return creditAlphabet[c], true
}

// CheckCreditCode validates an 18-char unified social credit code (GB 32100-2015) and returns "" when valid; lower case is a format fault.
func CheckCreditCode(code string) Code {
	if len(code) != 18 {
		return CodeCreditFormat
	}
	for i := 0; i < 18; i++ {
		if creditValue(code[i]) < 0 {
			return CodeCreditFormat
		}
	}
	if c, _ := CreditCodeCheckChar(code[:17]); c != code[17] {
		return CodeCreditCheck
	}
	return ""
}

// unitNumberLen is the GB/T 37346-2019 unit number length: 6+3+3 zoning, 2+5 parcel, 1+8 fixture.
const unitNumberLen = 28

// CheckUnitNumber validates a GB/T 37346-2019 real-estate unit number (^\d{12}[GJZ][ABSXCDEFHGWY]\d{5}[FLQW]\d{8}$) and returns "" when valid.
func CheckUnitNumber(n string) Code {
	if len(n) != unitNumberLen {
		return CodeUnitNumberFormat
	}
	for i := 0; i < unitNumberLen; i++ {
		c := n[i]
		var ok bool
		switch {
		case i == 12: // land ownership: G state, J collective, Z undetermined
			ok = strings.IndexByte("GJZ", c) >= 0
		case i == 13: // parcel feature code
			ok = strings.IndexByte("ABSXCDEFHGWY", c) >= 0
		case i == 19: // fixture: F building, L forest, Q other, W none
			ok = strings.IndexByte("FLQW", c) >= 0
		default:
			ok = isDigit(c)
		}
		if !ok {
			return CodeUnitNumberFormat
		}
	}
	return ""
}

// UnitDivision returns the 6-digit county division code of a unit number, or "" if n is not a valid unit number, so callers never group by garbage.
func UnitDivision(n string) string {
	if CheckUnitNumber(n) != "" {
		return ""
	}
	return n[:6]
}

// CertKind tells a title certificate from a registration certificate (e.g. for a mortgage).
type CertKind string

// Certificate kinds, spelled as they appear in the number.
const (
	CertTitle        CertKind = "不动产权"
	CertRegistration CertKind = "不动产证明"
)

// CertificateNumber is a parsed title certificate (不动产权) or registration certificate (不动产证明) number.
type CertificateNumber struct {
	Province string // one-character province short name, e.g. 黑
	Year     int
	Place    string // issuing city or county, e.g. 齐齐哈尔市
	Kind     CertKind
	Serial   int
}

// certErr builds a parse fault; callers map any of them to CodeCertNumberFormat.
func certErr(why string) error {
	return errors.New("mortgage: certificate number: " + why)
}

// Field limits of a certificate number; the year range brackets the registration era with room to spare.
const (
	certMinYear     = 1990
	certMaxYear     = 2100
	certMaxPlace    = 20
	certSerialWidth = 7
)

// ParseCertificateNumber parses 黑(2020)齐齐哈尔市不动产权第0000001号; brackets may be half- or full-width.
func ParseCertificateNumber(s string) (CertificateNumber, error) {
	var c CertificateNumber
	prov, size := utf8.DecodeRuneInString(s)
	if size == 0 || !unicode.Is(unicode.Han, prov) {
		return CertificateNumber{}, certErr("province must be one Chinese character")
	}
	c.Province, s = s[:size], s[size:]

	rest, ok := cutBracket(s, "(", "（")
	if !ok || len(rest) < 4 {
		return CertificateNumber{}, certErr("missing opening bracket before year")
	}
	y, ok := parseDigits(rest[:4])
	if !ok || y < certMinYear || y > certMaxYear {
		return CertificateNumber{}, certErr("year must be 4 digits in 1990..2100")
	}
	c.Year = y
	if s, ok = cutBracket(rest[4:], ")", "）"); !ok {
		return CertificateNumber{}, certErr("missing closing bracket after year")
	}

	s, ok = strings.CutSuffix(s, "号")
	if !ok {
		return CertificateNumber{}, certErr("missing trailing 号")
	}
	if len(s) < certSerialWidth {
		return CertificateNumber{}, certErr("serial must be 7 digits")
	}
	serial, ok := parseDigits(s[len(s)-certSerialWidth:])
	if !ok {
		return CertificateNumber{}, certErr("serial must be 7 digits")
	}
	c.Serial, s = serial, s[:len(s)-certSerialWidth]
	if s, ok = strings.CutSuffix(s, "第"); !ok {
		return CertificateNumber{}, certErr("serial must be 7 digits preceded by 第")
	}

	switch {
	case strings.HasSuffix(s, string(CertRegistration)):
		c.Kind = CertRegistration
	case strings.HasSuffix(s, string(CertTitle)):
		c.Kind = CertTitle
	default:
		return CertificateNumber{}, certErr("kind must be 不动产权 or 不动产证明")
	}
	c.Place = s[:len(s)-len(c.Kind)]
	n := 0
	for _, r := range c.Place {
		if !unicode.Is(unicode.Han, r) {
			return CertificateNumber{}, certErr("place must be Chinese characters")
		}
		n++
	}
	if n < 1 || n > certMaxPlace {
		return CertificateNumber{}, certErr("place must be 1 to 20 characters")
	}
	return c, nil
}

// String renders the canonical form with half-width brackets, so stored numbers compare equal whatever the input used.
func (c CertificateNumber) String() string {
	return fmt.Sprintf("%s(%04d)%s%s第%07d号", c.Province, c.Year, c.Place, c.Kind, c.Serial)
}

// cutBracket strips a leading half- or full-width bracket, so either width is accepted.
func cutBracket(s, half, full string) (string, bool) {
	if r, ok := strings.CutPrefix(s, half); ok {
		return r, true
	}
	return strings.CutPrefix(s, full)
}

// parseDigits parses ASCII digits only, unlike strconv.Atoi which also takes signs.
func parseDigits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// digits parses a string already known to be ASCII digits.
func digits(s string) int {
	n, _ := parseDigits(s)
	return n
}

// isDigit reports an ASCII digit; unicode.IsDigit would admit full-width digits.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isCalendarDate rejects dates like 1999-02-30 that time.Date would silently normalise.
func isCalendarDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Day() == d && int(t.Month()) == m
}

// MustResidentID completes 17 digits with their check character; for fixed
// test and demo data, it panics on anything else.
func MustResidentID(first17 string) string {
	c := ResidentIDCheckChar(first17)
	if c == 0 {
		panic("mortgage: not 17 digits: " + first17)
	}
	return first17 + string(c)
}

// MustCreditCode completes 17 characters with their GB 32100 check
// character; for fixed test and demo data, it panics on anything else.
func MustCreditCode(first17 string) string {
	c, ok := CreditCodeCheckChar(first17)
	if !ok {
		panic("mortgage: not a credit code stem: " + first17)
	}
	return first17 + string(c)
}
