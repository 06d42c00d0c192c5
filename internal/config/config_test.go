package config_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mortgaged/internal/config"
	"mortgaged/mortgage"
)

// TestREADMETable: README.md's configuration table is the one Vars
// generates; `go generate ./internal/config` rewrites it.
func TestREADMETable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := config.ReplaceTable(readme)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(readme) {
		t.Errorf("README.md's configuration table differs from config.Vars: run go generate ./internal/config")
	}
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c := config.Defaults()
	if c.DataDir != "data" || c.Addr != "127.0.0.1:8080" || c.MaxBodyBytes != 32<<20 || c.Registration.Location.String() != "Asia/Shanghai" {
		t.Errorf("defaults %+v", c)
	}
	if c.Batch.MaxBytes != 512<<20 || c.Batch.Parallel != 8 || c.Console.IdleTimeout != 30*time.Minute || c.Console.SecureCookies {
		t.Errorf("batch or console defaults %+v %+v", c.Batch, c.Console)
	}
	if len(c.Push.Config.Retry) != 10 || c.Push.Config.Retry[2] != 5*time.Minute {
		t.Errorf("push retry %v", c.Push.Config.Retry)
	}
	if c.Retention.DeliveredEvents != 90*24*time.Hour || c.Retention.Off {
		t.Errorf("retention %+v", c.Retention)
	}
}

// TestEveryVarDocumented: each variable has a meaning, and is in the table once.
func TestEveryVarDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range config.Vars {
		if v.Meaning == "" || seen[v.Name] {
			t.Errorf("%s: no meaning, or declared twice", v.Name)
		}
		seen[v.Name] = true
		if !strings.Contains(config.Table(), "`"+v.Name+"`") {
			t.Errorf("%s missing from the table", v.Name)
		}
	}
}

// TestLoadRejects: every fault is found at load, before anything starts,
// and the message names the variable.
func TestLoadRejects(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"MORTGAGED_PUSH_LEASE":            {"MORTGAGED_PUSH_TIMEOUT": "60s", "MORTGAGED_PUSH_LEASE": "61s"},
		"MORTGAGED_PUSH_RETRY":            {"MORTGAGED_PUSH_RETRY": "0s,soon"},
		"MORTGAGED_BATCH_PARALLEL":        {"MORTGAGED_BATCH_PARALLEL": "65"},
		"MORTGAGED_BATCH_LEASE":           {"MORTGAGED_BATCH_LEASE": "2s"},
		"MORTGAGED_CONSOLE_IDLE_TIMEOUT":  {"MORTGAGED_CONSOLE_IDLE_TIMEOUT": "10s"},
		"MORTGAGED_TLS_CLIENT_CA":         {"MORTGAGED_TLS_CLIENT_CA": "ca.pem"},
		"MORTGAGED_RETENTION_EVENTS_DAYS": {"MORTGAGED_RETENTION_EVENTS_DAYS": "0"},
		"MORTGAGED_PUBLIC_URL":            {"MORTGAGED_PUBLIC_URL": "bdc.example"},
		"MORTGAGED_FEE_PAYER":             {"MORTGAGED_FEE_PAYER": "mortgagor"}, // retired: 2559 makes the mortgagee pay
	} {
		_, err := config.Load(env(m))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v, want one naming %s", m, err, name)
		}
	}
}

// TestRetiredFeePayer: the mortgagee pays (2559); an installation that
// still says so starts, one that asked to bill the mortgagor does not.
func TestRetiredFeePayer(t *testing.T) {
	t.Parallel()
	if _, err := config.Load(env(map[string]string{"MORTGAGED_FEE_PAYER": "mortgagee"})); err != nil {
		t.Errorf("MORTGAGED_FEE_PAYER=mortgagee: %v, want accepted", err)
	}
	if _, err := config.Load(env(map[string]string{"MORTGAGED_FEE_PAYER": "mortgagor"})); err == nil || !strings.Contains(err.Error(), "2559") {
		t.Errorf("MORTGAGED_FEE_PAYER=mortgagor: %v, want refused citing 2559", err)
	}
}

func TestLoadDerived(t *testing.T) {
	c, err := config.Load(env(map[string]string{"MORTGAGED_PUBLIC_URL": "https://bdc.example.gov.cn/", "GOMEMLIMIT": "1GiB", "MORTGAGED_METRICS_ADDR": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Console.SecureCookies || c.PublicURL != "https://bdc.example.gov.cn" || c.MemoryLimitBytes != 0 || c.MetricsAddr != "" {
		t.Errorf("derived %+v", c)
	}
	c, err = config.Load(env(map[string]string{"MORTGAGED_PUBLIC_URL": "https://bdc.example.gov.cn", "MORTGAGED_CONSOLE_SECURE_COOKIES": "false"}))
	if err != nil || c.Console.SecureCookies {
		t.Errorf("explicit false: %v %v", c.Console.SecureCookies, err)
	}
}

// TestNoOtherEnvironment: the server's code reads its environment only
// through this package, and every MORTGAGED_ name the tree mentions is
// declared in Vars (the crash tests' hooks aside, which only a
// -tags crashtest build has).
func TestNoOtherEnvironment(t *testing.T) {
	declared := map[string]bool{}
	for _, v := range config.Vars {
		declared[v.Name] = true
	}
	for n := range config.Retired {
		declared[n] = true
	}
	name := regexp.MustCompile(`"(MORTGAGED_[A-Z_]+)`)
	root := "../.."
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src, rel := string(b), strings.TrimPrefix(path, root+"/")
		for _, m := range name.FindAllStringSubmatch(src, -1) {
			if !declared[m[1]] && !strings.HasPrefix(m[1], "MORTGAGED_TEST_") {
				t.Errorf("%s mentions %s, which config.Vars does not declare", rel, m[1])
			}
		}
		served := strings.HasPrefix(rel, "cmd/mortgaged/") || strings.HasPrefix(rel, "internal/app/")
		if served && !strings.HasSuffix(rel, "_test.go") && !strings.Contains(src, "//go:build crashtest") &&
			(strings.Contains(src, "os.Getenv(") || strings.Contains(src, "os.LookupEnv(")) {
			t.Errorf("%s reads the environment itself; declare the variable in config.Vars", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPromisable: by default only what the centre's plan names (and gets by
// data sharing) may be promised; a local list is checked kind by kind.
func TestPromisable(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{}))
	if err != nil || strings.Join(c.Registration.Promisable, ",") != "business_licence,identity_document" {
		t.Errorf("default promisable %v, %v", c.Registration.Promisable, err)
	}
	c, err = config.Load(env(map[string]string{"MORTGAGED_PROMISABLE": "identity_document, loan_contract"}))
	if err != nil || strings.Join(c.Registration.Promisable, ",") != "identity_document,loan_contract" {
		t.Errorf("local promisable %v, %v", c.Registration.Promisable, err)
	}
	if c, err := config.Load(env(map[string]string{"MORTGAGED_PROMISABLE": "none"})); err != nil || c.Registration.Promisable == nil || len(c.Registration.Promisable) != 0 {
		t.Errorf("none: %v, %v", c.Registration.Promisable, err)
	}
	if _, err := config.Load(env(map[string]string{"MORTGAGED_PROMISABLE": "business_licence,contract"})); err == nil || !strings.Contains(err.Error(), `"contract"`) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestCalendarVars: Saturday service, cut-off and close are configuration
// with today's values as defaults, in the business time zone.
func TestCalendarVars(t *testing.T) {
	t.Parallel()
	c := config.Defaults()
	if cal := c.Registration.Calendar; !cal.SaturdayService || cal.CutOff != 16*time.Hour || cal.Close != 17*time.Hour+30*time.Minute || cal.Location.String() != "Asia/Shanghai" {
		t.Errorf("default calendar settings %+v", cal)
	}
	c, err := config.Load(env(map[string]string{"MORTGAGED_SATURDAY_SERVICE": "off", "MORTGAGED_CUTOFF": "15:30", "MORTGAGED_CLOSE": "17:00"}))
	if cal := c.Registration.Calendar; err != nil || cal.SaturdayService || cal.CutOff != 15*time.Hour+30*time.Minute || cal.Close != 17*time.Hour {
		t.Errorf("configured calendar settings %+v, %v", cal, err)
	}
	for name, m := range map[string]map[string]string{
		"MORTGAGED_CUTOFF":           {"MORTGAGED_CUTOFF": "18:00"}, // after the default close
		"MORTGAGED_CLOSE":            {"MORTGAGED_CLOSE": "25:00"},
		"MORTGAGED_SATURDAY_SERVICE": {"MORTGAGED_SATURDAY_SERVICE": "yes"},
	} {
		if _, err := config.Load(env(m)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: %v, want an error naming %s", m, err, name)
		}
	}
	for _, v := range []string{"9:00", "17:60", "00:00", "17.30", "1730"} {
		if _, err := config.Load(env(map[string]string{"MORTGAGED_CLOSE": v})); err == nil {
			t.Errorf("MORTGAGED_CLOSE=%s accepted", v)
		}
	}
}

// TestStrictRules: demands beyond the law are off unless listed, each name
// switches its own rule on, and an unknown name stops the start.
func TestStrictRules(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{}))
	if err != nil || c.Registration.Strict != (mortgage.StrictRules{}) {
		t.Errorf("default strict rules %+v, %v", c.Registration.Strict, err)
	}
	c, err = config.Load(env(map[string]string{"MORTGAGED_STRICT_RULES": "coowner_notice, debt_period_ended,separate_mortgage_contract,debt_extinguished_proof"}))
	want := mortgage.StrictRules{CoOwnerNotice: true, DebtPeriodEnded: true, SeparateMortgageContract: true, DebtExtinguishedProof: true}
	if err != nil || c.Registration.Strict != want {
		t.Errorf("all strict rules %+v, %v", c.Registration.Strict, err)
	}
	c, err = config.Load(env(map[string]string{"MORTGAGED_STRICT_RULES": "debt_period_ended"}))
	if err != nil || c.Registration.Strict != (mortgage.StrictRules{DebtPeriodEnded: true}) {
		t.Errorf("one strict rule %+v, %v", c.Registration.Strict, err)
	}
	if _, err := config.Load(env(map[string]string{"MORTGAGED_STRICT_RULES": "coowner_notise"})); err == nil || !strings.Contains(err.Error(), `"coowner_notise"`) {
		t.Errorf("unknown rule: %v", err)
	}
}
