package app_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mortgaged/internal/app"
	"mortgaged/internal/config"
	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }

// TestNew: the configuration reaches every part, the bank dialects are
// loaded, the server answers with its console mounted; what is off starts
// nothing.
func TestNew(t *testing.T) {
	t.Parallel()
	d, err := db.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{
			"MORTGAGED_MASTER_KEY":       "dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWV4YWN0bHk=",
			"MORTGAGED_MAX_BODY_MB":      "7",
			"MORTGAGED_BATCH_MAX_MB":     "9",
			"MORTGAGED_PUSH":             "off",
			"MORTGAGED_RETENTION":        "off",
			"MORTGAGED_PUBLIC_URL":       "https://bdc.example.gov.cn",
			"MORTGAGED_CLOSE":            "17:00",
			"MORTGAGED_SATURDAY_SERVICE": "off",
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), c, d, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if a.Server.MaxBodyBytes != 7<<20 || a.Server.MaxBatchBytes != 9<<20 || a.Server.PublicURL != c.PublicURL {
		t.Errorf("server limits %d, %d, %s", a.Server.MaxBodyBytes, a.Server.MaxBatchBytes, a.Server.PublicURL)
	}
	if a.Service.Signer == nil || a.Server.Keys == nil || a.Server.Formats != a.Formats {
		t.Errorf("service or server not wired: signer %v, keys %v", a.Service.Signer, a.Server.Keys)
	}
	if cal := a.Service.Config.Calendar; cal.Close != 17*time.Hour || cal.SaturdayService || cal.CutOff != 16*time.Hour {
		t.Errorf("calendar settings not wired: %+v", cal)
	}
	if len(a.Formats.Names()) < 3 {
		t.Errorf("formats %v: the shipped bank dialects are missing", a.Formats.Names())
	}
	rec := httptest.NewRecorder()
	a.Server.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("GET /openapi.json: %d", rec.Code)
	}
	// The staff console is part of the server serve runs: its sign-in page
	// answers (before, serve mounted it itself and the tools went without).
	rec = httptest.NewRecorder()
	a.Server.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/signin", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "登录") {
		t.Errorf("GET /console/signin: %d, want the console's sign-in page", rec.Code)
	}
	if s, err := a.StartPush(t.Context()); s != nil || err != nil {
		t.Errorf("push off: %v, %v", s, err)
	}
	if s, err := a.StartRetention(); s != nil || err != nil {
		t.Errorf("retention off: %v, %v", s, err)
	}
}
