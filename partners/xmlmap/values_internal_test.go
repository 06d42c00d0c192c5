package xmlmap

import "testing"

// TestAmountUnitsScale: parseAmount reads u.decimals fraction digits as fen,
// which holds only while each unit's fen is 10^decimals.
func TestAmountUnitsScale(t *testing.T) {
	for name, u := range amountUnits {
		scale := int64(1)
		for range u.decimals {
			scale *= 10
		}
		if u.fen != scale {
			t.Errorf("unit %q: %d fen but %d decimals", name, u.fen, u.decimals)
		}
	}
}
