package xmlmap

import (
	"errors"
	"fmt"
	"strings"

	"mortgaged/mortgage"
)

// amountUnit is how a partner writes money: fen per unit, and the decimals
// that make one fen. Arithmetic is on integers only.
type amountUnit struct {
	name     string
	label    string
	fen      int64 // fen in one unit
	decimals int
}

var amountUnits = map[string]amountUnit{
	"yuan": {"yuan", "元", 100, 2},
	"wan":  {"wan", "万元", 1_000_000, 6},
	"fen":  {"fen", "分", 1, 0},
	"":     {"yuan", "元", 100, 2}, // answers default to yuan
}

// maxFenDigits keeps whole × fen far below int64 overflow (9.2e18).
const maxFenDigits = 17

var errAmount = errors.New("amount")

// parseAmount reads an exact decimal in unit u: digits, optionally a point
// and at most u.decimals digits. 46.000000 万元 is 46000000 fen and
// 0.000001 万元 is 1 fen; no floats are involved. Each unit's fen is
// 10^decimals, so the decimal's smallest unit is one fen.
func parseAmount(s string, u amountUnit) (int64, error) {
	fen, err := mortgage.ParseDecimal(s, u.decimals, maxFenDigits-digitsOf(u.fen)+1)
	if err != nil {
		return 0, errAmount
	}
	return fen, nil
}

// formatAmount writes fen in unit u with all its decimals (56.000000 万元).
func formatAmount(fen int64, u amountUnit) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	if u.decimals == 0 {
		return fmt.Sprintf("%s%d", sign, fen)
	}
	return fmt.Sprintf("%s%d.%0*d", sign, fen/u.fen, u.decimals, fen%u.fen)
}

// digitsOf counts the digits of a power of ten (1 → 1, 100 → 3).
func digitsOf(n int64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// layout turns YYYY MM DD (and, for times, hh mm ss) with literal
// separators into a Go time layout. Letters other than the tokens are
// refused so that a typo cannot become a silently wrong format.
func layout(s string, withTime bool) (string, error) {
	tokens := []struct{ tok, goTok string }{{"YYYY", "2006"}, {"MM", "01"}, {"DD", "02"}}
	if withTime {
		tokens = append(tokens, struct{ tok, goTok string }{"hh", "15"}, struct{ tok, goTok string }{"mm", "04"}, struct{ tok, goTok string }{"ss", "05"})
	}
	var b strings.Builder
	rest := s
	seen := map[string]bool{}
outer:
	for rest != "" {
		for _, t := range tokens {
			if strings.HasPrefix(rest, t.tok) {
				if seen[t.tok] {
					return "", fmt.Errorf("layout %q: %s appears twice", s, t.tok)
				}
				seen[t.tok] = true
				b.WriteString(t.goTok)
				rest = rest[len(t.tok):]
				continue outer
			}
		}
		c := rest[0]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			return "", fmt.Errorf("layout %q: unexpected %q (use YYYY, MM, DD%s and separators)", s, c, map[bool]string{true: ", hh, mm, ss"}[withTime])
		}
		b.WriteByte(c)
		rest = rest[1:]
	}
	for _, t := range tokens[:3] {
		if !seen[t.tok] {
			return "", fmt.Errorf("layout %q lacks %s", s, t.tok)
		}
	}
	return b.String(), nil
}

// parseDate reads a date in any of the layouts: time.Parse refuses dates
// that are not in the calendar (2046-02-30).
func parseDate(s string, layouts []string) (mortgage.Date, bool) {
	for _, l := range layouts {
		if len(s) != len(l) {
			continue
		}
		t, err := timeParse(l, s)
		if err == nil {
			return mortgage.Date{Time: t}, true
		}
	}
	return mortgage.Date{}, false
}
