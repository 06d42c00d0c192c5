package mortgage

import (
	"strings"
	"testing"
)

// Every decoder and rule quotes a partner's value back through Clip: 40
// runes (not bytes), then "…".
func TestClip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ShortStays", "LJB-1", "LJB-1"},
		{"FortyRunesStay", strings.Repeat("齐", 40), strings.Repeat("齐", 40)},
		{"CutByRune", strings.Repeat("齐", 41), strings.Repeat("齐", 40) + "…"},
		{"ASCII", strings.Repeat("x", 100), strings.Repeat("x", 40) + "…"},
		{"Empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clip(tt.in); got != tt.want {
				t.Errorf("Clip(%.20q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
