package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"mortgaged/internal/pgtest"
)

// partner runs `mortgaged partner ARGS` against the database at dbURL.
func partner(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"partner"}, args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "MORTGAGED_MASTER_KEY="+testMasterKey)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A partner's branches are listed as its mortgagees from the command line;
// its own name and code is always one and cannot be removed.
func TestPartnerMortgageeCommands(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	if out, err := partner(t, dbURL, "add", "-id", "lj-bank", "-name", "龙江示范银行股份有限公司", "-credit-code", "91230200MA1BANK01Q"); err != nil {
		t.Fatalf("partner add: %v\n%s", err, out)
	}
	if out, err := partner(t, dbURL, "add", "-id", "hc-bank", "-name", "鹤城示范银行股份有限公司", "-credit-code", "91230200MA1BANK02U"); err != nil {
		t.Fatalf("partner add: %v\n%s", err, out)
	}
	const branch = "91230202MA1BRCH016"
	if out, err := partner(t, dbURL, "mortgagee", "lj-bank", "-add", "-name", "龙江示范银行股份有限公司齐齐哈尔龙沙支行", "-credit-code", branch); err != nil {
		t.Fatalf("mortgagee -add: %v\n%s", err, out)
	}
	out, err := partner(t, dbURL, "mortgagee", "lj-bank")
	if err != nil || !strings.Contains(out, "91230200MA1BANK01Q  true   龙江示范银行股份有限公司") || !strings.Contains(out, branch+"  false  龙江示范银行股份有限公司齐齐哈尔龙沙支行") {
		t.Fatalf("mortgagee list: %v\n%s", err, out)
	}
	for name, args := range map[string][]string{
		"bad check digit":       {"mortgagee", "lj-bank", "-add", "-name", "某支行", "-credit-code", "91230202MA1BRCH018"},
		"without a name":        {"mortgagee", "lj-bank", "-add", "-credit-code", branch},
		"another bank's branch": {"mortgagee", "hc-bank", "-add", "-name", "某支行", "-credit-code", branch},
		"another bank's own":    {"mortgagee", "lj-bank", "-add", "-name", "鹤城示范银行股份有限公司", "-credit-code", "91230200MA1BANK02U"},
		"remove the own":        {"mortgagee", "lj-bank", "-remove", "-credit-code", "91230200MA1BANK01Q"},
		"unknown partner":       {"mortgagee", "no-bank"},
		"add and remove":        {"mortgagee", "lj-bank", "-add", "-remove", "-name", "x", "-credit-code", branch},
	} {
		if out, err := partner(t, dbURL, args...); err == nil {
			t.Errorf("%s: accepted\n%s", name, out)
		}
	}
	if out, err := partner(t, dbURL, "mortgagee", "lj-bank", "-remove", "-credit-code", branch); err != nil {
		t.Fatalf("mortgagee -remove: %v\n%s", err, out)
	}
	if out, _ := partner(t, dbURL, "mortgagee", "lj-bank"); strings.Contains(out, branch) {
		t.Errorf("removed branch still listed\n%s", out)
	}
}

// A negative overlap would expire the partner's keys in the past: refused,
// and no key is issued.
func TestRotateKeyRefusesNegativeOverlap(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	if out, err := partner(t, dbURL, "add", "-id", "lj-bank", "-name", "龙江示范银行股份有限公司", "-credit-code", "91230200MA1BANK01Q"); err != nil {
		t.Fatalf("partner add: %v\n%s", err, out)
	}
	out, err := partner(t, dbURL, "rotate-key", "lj-bank", "-overlap", "-1h")
	if err == nil || !strings.Contains(out, "negative") || strings.Contains(out, "mk_") {
		t.Fatalf("rotate-key -overlap -1h: %v\n%s", err, out)
	}
	if out, err := partner(t, dbURL, "rotate-key", "lj-bank", "-overlap", "0s"); err != nil {
		t.Fatalf("rotate-key -overlap 0s: %v\n%s", err, out)
	}
}
