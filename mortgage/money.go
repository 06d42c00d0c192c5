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
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 13 || (hasDot && (frac == "" || len(frac) > 2)) {
		return 0, errAmount
	}
	var fen int64
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, errAmount
		}
		fen = fen*10 + int64(c-'0')
	}
	fen *= 100
	for i, c := range frac {
		if c < '0' || c > '9' {
			return 0, errAmount
		}
		if i == 0 {
			fen += int64(c-'0') * 10
		} else {
			fen += int64(c - '0')
		}
	}
	return fen, nil
}

// FormatYuan writes fen as yuan with two decimals.
func FormatYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}
