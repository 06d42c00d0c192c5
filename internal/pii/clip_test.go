package pii

import (
	"strings"
	"testing"
)

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short stays", "LJB-1", 64, "LJB-1"},
		{"exactly n runes stays", "齐齐哈尔", 4, "齐齐哈尔"},
		{"cut by rune, size said", "齐齐哈尔市", 2, "齐齐…(15 bytes)"},
		{"ascii cut", strings.Repeat("x", 100), 3, "xxx…(100 bytes)"},
		{"empty", "", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clip(tt.in, tt.n); got != tt.want {
				t.Errorf("Clip(%.20q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
