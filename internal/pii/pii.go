// Package pii masks personal data before it reaches logs.
package pii

import "strings"

// idKeepHead and idKeepTail keep the division code and the tail so support can still tell numbers apart without seeing the birth date.
const (
	idKeepHead = 6
	idKeepTail = 4
)

// MaskID keeps the first 6 and last 4 characters of an identifier and stars the rest; shorter than 11 runes it is all stars so nothing leaks.
func MaskID(s string) string {
	r := []rune(s)
	if len(r) < idKeepHead+idKeepTail+1 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:idKeepHead]) + strings.Repeat("*", len(r)-idKeepHead-idKeepTail) + string(r[len(r)-idKeepTail:])
}

// MaskName keeps only the first rune (usually the surname) of a name; a one-rune name becomes "*" so it is never shown whole.
func MaskName(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return strings.Repeat("*", len(r))
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}
