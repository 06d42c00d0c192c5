package mortgage_test

import (
	"testing"

	"mortgaged/mortgage"
)

// TestParseDecimal: the shared exact-decimal parser at the scales partners
// write (fen, yuan, 万元), its digit bounds, and what it refuses.
func TestParseDecimal(t *testing.T) {
	for _, tt := range []struct {
		in                 string
		decimals, maxWhole int
		want               int64
	}{
		{"0", 0, 17, 0},
		{"46000000", 0, 17, 46000000},
		{"1.5", 2, 13, 150},
		{"1.05", 2, 13, 105},
		{"46.000000", 6, 11, 46000000},
		{"0.000001", 6, 11, 1},
		{"0.5", 6, 11, 500000},
		{"99999999999", 6, 11, 99999999999000000},
		{"999999999999999999", 0, 18, 999999999999999999},
	} {
		if got, err := mortgage.ParseDecimal(tt.in, tt.decimals, tt.maxWhole); err != nil || got != tt.want {
			t.Errorf("ParseDecimal(%q, %d, %d) = %d, %v; want %d", tt.in, tt.decimals, tt.maxWhole, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		in                 string
		decimals, maxWhole int
	}{
		{"1.5", 0, 17},          // no decimals allowed
		{"1.", 0, 17},           // a point needs digits after it
		{"1.0000001", 6, 11},    // one decimal too many
		{"123456789012", 6, 11}, // one whole digit too many
		{"", 2, 13}, {".5", 2, 13}, {"-1", 2, 13}, {"+1", 2, 13}, {"1e5", 2, 13},
		{"1,000", 2, 13}, {"１", 2, 13}, {" 1", 2, 13}, {"1.5.", 2, 13},
	} {
		if got, err := mortgage.ParseDecimal(tt.in, tt.decimals, tt.maxWhole); err == nil {
			t.Errorf("ParseDecimal(%q, %d, %d) = %d, accepted", tt.in, tt.decimals, tt.maxWhole, got)
		}
	}
}
