package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mortgaged/internal/pgtest"
)

// staff runs `mortgaged staff ARGS` against the database at dbURL with
// stdin as its standard input.
func staff(t *testing.T, dbURL, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"staff"}, args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "MORTGAGED_MASTER_KEY="+testMasterKey)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Staff accounts are made, listed and disabled from the command line, and
// the server's console lets them sign in.
func TestStaffCommands(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	if out, err := staff(t, dbURL, "Qiqihar-desk-2026\n", "add", "-username", "wangli", "-name", "王丽", "-role", "reviewer"); err != nil {
		t.Fatalf("staff add: %v\n%s", err, out)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("another-long-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := staff(t, dbURL, "", "add", "-username", "zhaolei", "-name", "赵磊", "-role", "supervisor", "-password-file", pwFile); err != nil {
		t.Fatalf("staff add -password-file: %v\n%s", err, out)
	}
	for name, args := range map[string][]string{
		"taken username": {"add", "-username", "wangli", "-name", "王丽", "-role", "reviewer"},
		"bad role":       {"add", "-username", "li", "-name", "李", "-role", "admin"},
	} {
		if out, err := staff(t, dbURL, "Qiqihar-desk-2026\n", args...); err == nil {
			t.Errorf("%s: accepted\n%s", name, out)
		}
	}
	if out, err := staff(t, dbURL, "short\n", "add", "-username", "li", "-name", "李", "-role", "auditor"); err == nil || !strings.Contains(out, "at least 12") {
		t.Errorf("short password: %v\n%s", err, out)
	}
	out, err := staff(t, dbURL, "", "list")
	if err != nil || !strings.Contains(out, "wangli") || !strings.Contains(out, "赵磊") || !strings.Contains(out, "supervisor") {
		t.Fatalf("staff list: %v\n%s", err, out)
	}

	// The served console signs wangli in.
	p := start(t, []string{"DATABASE_URL=" + dbURL, "MORTGAGED_PUSH=off"}, "serve", "-addr", "127.0.0.1:0", "-data", t.TempDir())
	signIn := func() int {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get(p.addr + "/console/signin")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		_, rest, _ := strings.Cut(string(body), `name="csrf" value="`)
		token, _, _ := strings.Cut(rest, `"`)
		res, err = c.PostForm(p.addr+"/console/signin", url.Values{"csrf": {token}, "username": {"wangli"}, "password": {"Qiqihar-desk-2026"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if status := signIn(); status != http.StatusSeeOther {
		t.Fatalf("sign in through the served console: %d", status)
	}
	if out, err := staff(t, dbURL, "", "disable", "wangli"); err != nil {
		t.Fatalf("staff disable: %v\n%s", err, out)
	}
	if status := signIn(); status != http.StatusUnauthorized {
		t.Errorf("a disabled account signs in: %d", status)
	}
	if out, err := staff(t, dbURL, "", "disable", "nobody"); err == nil {
		t.Errorf("disable an unknown user: accepted\n%s", out)
	}
}
