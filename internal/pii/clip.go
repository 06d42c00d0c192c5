package pii

import (
	"strconv"
	"unicode/utf8"
)

// Clip keeps the first n runes of text that came from outside, so a log
// line stays a line however large the input was (a 12 MB reference once
// made a 12.5 MB line). What was cut is said, with its size in bytes.
func Clip(s string, n int) string {
	if len(s) <= n { // bytes ≥ runes: nothing to cut
		return s
	}
	i := 0
	for range n {
		if i >= len(s) {
			return s
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
