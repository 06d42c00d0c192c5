package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnknownFormatIsTheCentresFault: a partner registered (before the
// registry checked formats, or with a dialect since removed) with a format
// this node does not speak is told so, not "internal error".
func TestUnknownFormatIsTheCentresFault(t *testing.T) {
	a := setup(t)
	if _, err := a.db.Exec(`UPDATE partners SET format = 'retired-dialect' WHERE id = $1`, bankB.ID); err != nil {
		t.Fatal(err)
	}
	res := a.post(bankB.ID, a.body("HC-UNKNOWN-FORMAT"))
	if res.status != http.StatusServiceUnavailable || !strings.Contains(string(res.body), `"code":"partner_format_unknown"`) ||
		!strings.Contains(string(res.body), "retired-dialect") {
		t.Errorf("answer %d %s, want 503 partner_format_unknown naming the format", res.status, res.body)
	}
	if n := a.count("bundles"); n != 0 {
		t.Errorf("%d bundles registered", n)
	}
}
