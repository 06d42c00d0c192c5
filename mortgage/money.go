package mortgage

import (
	"errors"
	"fmt"
	"strings"
)

// MaxAmountFen bounds amounts at one trillion yuan: larger is a typing error,
// and it keeps every sum far from int64 overflow.
const MaxAmountFen = 1_000_000_000_000 * 100

var errAmount = errors.New("amount must be a decimal number of yuan with at most two decimals, e.g. 1500000.00")

// ParseYuan reads an exact decimal yuan amount ("1500000", "1500000.5",
// "1500000.00") into fen. Floats are never involved.
func ParseYuan(s string) (int64, error) {
	fen, err := ParseDecimal(s, 2, 13)
	if err != nil {
		return 0, errAmount
	}
	return fen, nil
}

var errDecimal = errors.New("not an exact decimal")

// ParseDecimal reads an exact decimal with at most maxWhole digits before
// the point and at most decimals after it, as a whole number of its
// smallest unit (10^-decimals): ParseDecimal("1.5", 2, 13) is 150 and
// ParseDecimal("0.000001", 6, 11) is 1. Only ASCII digits and one point
// are accepted (no sign, exponent, grouping or spaces) and floats are never
// involved. maxWhole+decimals must be at most 18, which keeps the result
// within int64. It is the one parser behind every amount a partner writes
// (ParseYuan, and the XML mappings' yuan, 万元 and fen).
func ParseDecimal(s string, decimals, maxWhole int) (int64, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(whole) > maxWhole || (hasDot && (frac == "" || len(frac) > decimals)) {
		return 0, errDecimal
	}
	var n int64
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, errDecimal
		}
		n = n*10 + int64(c-'0')
	}
	for range decimals - len(frac) {
		n *= 10
	}
	return n, nil
}

// FormatYuan writes fen as yuan with two decimals.
func FormatYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}
