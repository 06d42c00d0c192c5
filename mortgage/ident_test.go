package mortgage

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// The two resident IDs published in GB 11643-1999.
var standardIDs = []string{"11010519491231002X", "440524188001010014"}

// A fixed "today" so birth-date tests do not drift.
var idToday = time.Date(2026, 3, 14, 12, 0, 0, 0, chinaZone)

// withCheck completes 17 digits with their check character.
func withCheck(t testing.TB, first17 string) string {
	t.Helper()
	c := ResidentIDCheckChar(first17)
	if c == 0 {
		t.Fatalf("ResidentIDCheckChar(%q) = 0", first17)
	}
	return first17 + string(c)
}

func TestCheckResidentID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		id    string
		today time.Time
		want  Code
	}{
		{"valid/standard example with X", "11010519491231002X", idToday, ""},
		{"valid/standard example born 1880", "440524188001010014", idToday, ""},
		{"valid/born 1800-01-01", withCheck(t, "11010518000101001"), idToday, ""},
		{"valid/born 2000-02-29", withCheck(t, "11010520000229001"), idToday, ""},
		{"valid/born today", withCheck(t, "11010520260314001"), idToday, ""},
		{"valid/born today in China while UTC is still yesterday", withCheck(t, "11010520260315001"),
			time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC), ""},
		{"format/empty", "", idToday, CodeIDFormat},
		{"format/17 chars", "11010519491231002", idToday, CodeIDFormat},
		{"format/19 chars", "11010519491231002X0", idToday, CodeIDFormat},
		{"format/letter in body", "1101051949123A002X", idToday, CodeIDFormat},
		{"format/X not last", "X10105194912310020", idToday, CodeIDFormat},
		{"format/lower-case x", "11010519491231002x", idToday, CodeIDFormat},
		{"format/other letter last", "11010519491231002Y", idToday, CodeIDFormat},
		{"format/full-width digit", "１1010519491231002", idToday, CodeIDFormat},
		{"check digit/wrong last digit", "440524188001010015", idToday, CodeIDCheckDigit},
		{"check digit/X instead of digit", "44052418800101001X", idToday, CodeIDCheckDigit},
		{"birth date/February 30", withCheck(t, "11010519990230001"), idToday, CodeIDBirthDate},
		{"birth date/February 29 in non-leap 1900", withCheck(t, "11010519000229001"), idToday, CodeIDBirthDate},
		{"birth date/month 13", withCheck(t, "11010519991301001"), idToday, CodeIDBirthDate},
		{"birth date/day 00", withCheck(t, "11010519990100001"), idToday, CodeIDBirthDate},
		{"birth date/tomorrow", withCheck(t, "11010520260315001"), idToday, CodeIDBirthDate},
		{"birth date/before 1800", withCheck(t, "11010517991231001"), idToday, CodeIDBirthDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckResidentID(tt.id, tt.today); got != tt.want {
				t.Errorf("CheckResidentID(%q) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
}

// Every single-character substitution within the ID alphabet must be caught by the check character.
func TestCheckResidentIDSingleMutations(t *testing.T) {
	t.Parallel()
	for _, id := range standardIDs {
		t.Run("check digit/"+id, func(t *testing.T) {
			for i := 0; i < len(id); i++ {
				alphabet := "0123456789"
				if i == 17 {
					alphabet += "X"
				}
				for _, c := range []byte(alphabet) {
					if c == id[i] {
						continue
					}
					m := id[:i] + string(c) + id[i+1:]
					if got := CheckResidentID(m, idToday); got != CodeIDCheckDigit {
						t.Errorf("CheckResidentID(%q) = %q, want %q", m, got, CodeIDCheckDigit)
					}
				}
			}
		})
	}
}

func TestResidentIDCheckChar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		first string
		want  byte
	}{
		{"X", "11010519491231002", 'X'},
		{"digit", "44052418800101001", '4'},
		{"invalid/short", "1101051949123100", 0},
		{"invalid/letter", "1101051949123100A", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResidentIDCheckChar(tt.first); got != tt.want {
				t.Errorf("ResidentIDCheckChar(%q) = %q, want %q", tt.first, got, tt.want)
			}
		})
	}
}

// Published unified social credit codes.
var validCreditCodes = []string{
	"91100000100003962T",
	"911100001000044477",
	"911100001000054748",
	"911000001000013428",
	"9144030010001686XA",
	"91310000631295002H",
}

func TestCheckCreditCode(t *testing.T) {
	t.Parallel()
	type tc struct {
		name string
		code string
		want Code
	}
	var tests []tc
	for _, c := range validCreditCodes {
		tests = append(tests, tc{"valid/" + c, c, ""})
	}
	tests = append(tests,
		tc{"valid/check value 31 wraps to 0", "9111000010000444F0", ""},
		tc{"check digit/last char changed", "91100000100003962U", CodeCreditCheck},
		tc{"check digit/body char changed", "91440300100016860A", CodeCreditCheck},
		tc{"check digit/transposed", "91310000632195002H", CodeCreditCheck},
		tc{"format/contains I", "9110000010000396IT", CodeCreditFormat},
		tc{"format/contains O", "91100000100003962O", CodeCreditFormat},
		tc{"format/contains S", "S1100000100003962T", CodeCreditFormat},
		tc{"format/lower case", "91310000631295002h", CodeCreditFormat},
		tc{"format/17 chars", "91100000100003962", CodeCreditFormat},
		tc{"format/19 chars", "91100000100003962T0", CodeCreditFormat},
		tc{"format/empty", "", CodeCreditFormat},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckCreditCode(tt.code); got != tt.want {
				t.Errorf("CheckCreditCode(%q) = %q, want %q", tt.code, got, tt.want)
			}
		})
	}
}

// Every single substitution within the alphabet must be caught, since 31 is prime and all weights are non-zero.
func TestCheckCreditCodeSingleMutations(t *testing.T) {
	t.Parallel()
	for _, code := range validCreditCodes {
		t.Run("check digit/"+code, func(t *testing.T) {
			for i := 0; i < len(code); i++ {
				for _, c := range []byte(creditAlphabet) {
					if c == code[i] {
						continue
					}
					m := code[:i] + string(c) + code[i+1:]
					if got := CheckCreditCode(m); got != CodeCreditCheck {
						t.Errorf("CheckCreditCode(%q) = %q, want %q", m, got, CodeCreditCheck)
					}
				}
			}
		})
	}
}

func TestCreditCodeCheckChar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		first  string
		want   byte
		wantOK bool
	}{
		{"letter", "91100000100003962", 'T', true},
		{"digit", "91110000100004447", '7', true},
		{"sum divisible by 31 wraps to 0", "9111000010000444F", '0', true}, // Σ = 744 = 24·31
		{"invalid/short", "9110000010000396", 0, false},
		{"invalid/letter I", "9110000010000396I", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CreditCodeCheckChar(tt.first)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("CreditCodeCheckChar(%q) = %q, %v, want %q, %v", tt.first, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// Real unit numbers from published registration records.
var validUnitNumbers = []string{
	"441903012003GB00001F00020063",
	"340121261006GB00014F00220045",
	"371602009011GB00001F00522032",
	"230202001001GB00001F00010001",
}

func TestCheckUnitNumber(t *testing.T) {
	t.Parallel()
	type tc struct {
		name string
		n    string
		want Code
	}
	var tests []tc
	for _, n := range validUnitNumbers {
		tests = append(tests, tc{"valid/" + n, n, ""})
	}
	tests = append(tests,
		tc{"valid/collective land, forest", "230202001001JA00001L00000001", ""},
		tc{"valid/undetermined, no fixture", "230202001001ZY00001W00000000", ""},
		tc{"format/empty", "", CodeUnitNumberFormat},
		tc{"format/27 chars", "230202001001GB00001F0001000", CodeUnitNumberFormat},
		tc{"format/29 chars", "230202001001GB00001F000100010", CodeUnitNumberFormat},
		tc{"format/lower-case letters", "230202001001gb00001f00010001", CodeUnitNumberFormat},
	)
	// Break each position in turn with a character its class forbids.
	base := validUnitNumbers[3]
	for i := 0; i < len(base); i++ {
		var bad byte
		switch i {
		case 12:
			bad = 'A'
		case 13:
			bad = 'Z'
		case 19:
			bad = 'G'
		default:
			bad = 'F'
		}
		n := base[:i] + string(bad) + base[i+1:]
		tests = append(tests, tc{"format/position " + strconv.Itoa(i) + " " + n, n, CodeUnitNumberFormat})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckUnitNumber(tt.n); got != tt.want {
				t.Errorf("CheckUnitNumber(%q) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestUnitDivision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    string
		want string
	}{
		{"valid", "441903012003GB00001F00020063", "441903"},
		{"invalid/short", "44190", ""},
		{"invalid/bad number", "441903012003XB00001F00020063", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnitDivision(tt.n); got != tt.want {
				t.Errorf("UnitDivision(%q) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestParseCertificateNumber(t *testing.T) {
	t.Parallel()
	title := CertificateNumber{Province: "黑", Year: 2020, Place: "齐齐哈尔市", Kind: CertTitle, Serial: 1}
	reg := CertificateNumber{Province: "黑", Year: 2026, Place: "齐齐哈尔市", Kind: CertRegistration, Serial: 123}
	tests := []struct {
		name  string
		in    string
		want  CertificateNumber
		canon string
	}{
		{"valid/title half-width", "黑(2020)齐齐哈尔市不动产权第0000001号", title, "黑(2020)齐齐哈尔市不动产权第0000001号"},
		{"valid/title full-width", "黑（2020）齐齐哈尔市不动产权第0000001号", title, "黑(2020)齐齐哈尔市不动产权第0000001号"},
		{"valid/registration full-width", "黑（2026）齐齐哈尔市不动产证明第0000123号", reg, "黑(2026)齐齐哈尔市不动产证明第0000123号"},
		{"valid/registration half-width", "黑(2026)齐齐哈尔市不动产证明第0000123号", reg, "黑(2026)齐齐哈尔市不动产证明第0000123号"},
		{"valid/mixed brackets", "黑（2026)齐齐哈尔市不动产证明第0000123号", reg, "黑(2026)齐齐哈尔市不动产证明第0000123号"},
		{"valid/county", "黑(1990)龙江县不动产权第9999999号",
			CertificateNumber{Province: "黑", Year: 1990, Place: "龙江县", Kind: CertTitle, Serial: 9999999},
			"黑(1990)龙江县不动产权第9999999号"},
		{"valid/one-char place, year 2100", "京(2100)京不动产证明第0000000号",
			CertificateNumber{Province: "京", Year: 2100, Place: "京", Kind: CertRegistration, Serial: 0},
			"京(2100)京不动产证明第0000000号"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCertificateNumber(tt.in)
			if err != nil {
				t.Fatalf("ParseCertificateNumber(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseCertificateNumber(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.canon {
				t.Errorf("String() = %q, want %q", s, tt.canon)
			}
		})
	}
}

func TestParseCertificateNumberErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"missing 号", "黑(2020)齐齐哈尔市不动产权第0000001"},
		{"6-digit serial", "黑(2020)齐齐哈尔市不动产权第000001号"},
		{"8-digit serial", "黑(2020)齐齐哈尔市不动产权第00000001号"},
		{"full-width digits in serial", "黑(2020)齐齐哈尔市不动产权第０００００01号"},
		{"bad kind", "黑(2020)齐齐哈尔市不动产第0000001号"},
		{"other kind", "黑(2020)齐齐哈尔市房产证第0000001号"},
		{"missing 第", "黑(2020)齐齐哈尔市不动产权0000001号"},
		{"no place", "黑(2020)不动产权第0000001号"},
		{"place too long", "黑(2020)" + strings.Repeat("齐", 21) + "不动产权第0000001号"},
		{"latin place", "黑(2020)Qiqihar不动产权第0000001号"},
		{"latin province", "H(2020)齐齐哈尔市不动产权第0000001号"},
		{"two-char province", "黑龙(2020)齐齐哈尔市不动产权第0000001号"},
		{"no brackets", "黑2020齐齐哈尔市不动产权第0000001号"},
		{"square brackets", "黑[2020]齐齐哈尔市不动产权第0000001号"},
		{"missing closing bracket", "黑(2020齐齐哈尔市不动产权第0000001号"},
		{"3-digit year", "黑(202)齐齐哈尔市不动产权第0000001号"},
		{"5-digit year", "黑(20201)齐齐哈尔市不动产权第0000001号"},
		{"year before 1990", "黑(1989)齐齐哈尔市不动产权第0000001号"},
		{"year after 2100", "黑(2101)齐齐哈尔市不动产权第0000001号"},
		{"signed year", "黑(+202)齐齐哈尔市不动产权第0000001号"},
		{"trailing space", "黑(2020)齐齐哈尔市不动产权第0000001号 "},
		{"invalid UTF-8 in place", "黑(2020)齐\xff哈尔市不动产权第0000001号"},
	}
	for _, tt := range tests {
		t.Run("error/"+tt.name, func(t *testing.T) {
			if got, err := ParseCertificateNumber(tt.in); err == nil {
				t.Errorf("ParseCertificateNumber(%q) = %+v, want error", tt.in, got)
			}
		})
	}
}

func FuzzParseCertificateNumber(f *testing.F) {
	f.Add("黑(2020)齐齐哈尔市不动产权第0000001号")
	f.Add("黑（2026）齐齐哈尔市不动产证明第0000123号")
	f.Add("黑(1990)龙江县不动产权第9999999号")
	f.Add("京(2100)不动产权不动产证明第0000000号")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCertificateNumber(s)
		if err != nil {
			return
		}
		canon := c.String()
		again, err := ParseCertificateNumber(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canon, s, err)
		}
		if again != c {
			t.Fatalf("round trip of %q: %+v != %+v", s, again, c)
		}
		if again.String() != canon {
			t.Fatalf("String not stable: %q != %q", again.String(), canon)
		}
	})
}

func FuzzCheckResidentID(f *testing.F) {
	for _, id := range standardIDs {
		f.Add(id)
	}
	f.Add("11010519990230001X")
	f.Add("1101051949123100")
	f.Fuzz(func(t *testing.T, id string) {
		if CheckResidentID(id, idToday) != "" {
			return
		}
		for _, c := range []byte(idCheckChars) {
			if c == id[17] {
				continue
			}
			m := id[:17] + string(c)
			if got := CheckResidentID(m, idToday); got != CodeIDCheckDigit {
				t.Fatalf("valid %q with check %q: got %q, want %q", id, c, got, CodeIDCheckDigit)
			}
		}
	})
}
