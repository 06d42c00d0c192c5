package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mortgaged/mortgage"
	"mortgaged/mortgage/calendar"
)

// TestEmbeddedDatabaseSurvivesRestart runs the README's command — serve
// --demo without DATABASE_URL — registers the sample bundle, stops the
// server, starts it again and finds the registration intact.
func TestEmbeddedDatabaseSurvivesRestart(t *testing.T) {
	t.Parallel()
	root, err := os.MkdirTemp("", "mortgaged-embedded-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil { // the cluster's user must pass through
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	env := []string{"DATABASE_URL=", "MORTGAGED_MASTER_KEY="} // the master key from data/master.key

	p := start(t, env, "serve", "--demo", "-data", data, "-addr", "127.0.0.1:0")
	demo := filepath.Join(data, "demo")
	keyBytes, err := os.ReadFile(filepath.Join(demo, "lj-bank.key"))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(keyBytes))
	body, err := os.ReadFile(filepath.Join(demo, "first-general-clean.json"))
	if err != nil {
		t.Fatal(err)
	}
	status, answer, err := post(p.addr, key, body)
	if err != nil || status != http.StatusCreated || !strings.Contains(string(answer), `"status":"registered"`) {
		t.Fatalf("sample bundle: %d %s %v", status, answer, err)
	}
	if !strings.Contains(p.log.String(), "cmd/mortgaged call -url") {
		t.Errorf("serve --demo printed no ready-to-paste request:\n%s", p.log)
	}
	// The console holds the demo's week: the supervisor of staff.txt signs
	// in and finds six bundles at the desk (when the calendar knows this
	// year, so that deadlines can be set).
	if !strings.Contains(p.log.String(), p.addr+"/console/") || !strings.Contains(p.log.String(), "staff.txt") {
		t.Errorf("serve --demo printed no console address or staff file:\n%s", p.log)
	}
	queue := demoQueue(t, p.addr, filepath.Join(demo, "staff.txt"))
	cal, err := calendar.New(mortgage.DefaultCalendar(time.Local))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cal.Deadline(time.Now()); err == nil && strings.Count(queue, "data-bundle=") != 6 {
		t.Errorf("the demo's desk queue does not show six bundles:\n%s", queue)
	}
	p.terminate()
	if _, err := os.Stat(filepath.Join(data, "pg", "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("PostgreSQL still running after the server stopped (postmaster.pid: %v)", err)
	}

	p = start(t, env, "serve", "--demo", "-data", data, "-addr", "127.0.0.1:0")
	var decision struct{ BundleID, Reference string }
	if err := json.Unmarshal(answer, &decision); err != nil {
		t.Fatal(err)
	}
	req, err := signedRequest(http.MethodGet, p.addr+"/v1/bundles/"+decision.BundleID, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("bundle after restart: %d, want 200", res.StatusCode)
	}
	// The demo is not loaded twice: the replay still answers the first decision.
	again, replay, _ := post(p.addr, key, body)
	if again != status || string(replay) != string(answer) {
		t.Errorf("replay after restart: %d %s", again, replay)
	}
	p.terminate()
}

// demoQueue signs in to the console as the demo supervisor of staff.txt
// (which must be readable by its owner only) and returns the queue page.
func demoQueue(t *testing.T, base, staffFile string) string {
	t.Helper()
	fi, err := os.Stat(staffFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", staffFile, fi.Mode().Perm())
	}
	b, err := os.ReadFile(staffFile)
	if err != nil {
		t.Fatal(err)
	}
	var username, password string
	for line := range strings.Lines(string(b)) {
		if f := strings.Split(strings.TrimSpace(line), "\t"); len(f) == 4 && f[1] == "supervisor" {
			username, password = f[0], f[3]
		}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) string {
		t.Helper()
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get("/console/signin"))
	if m == nil {
		t.Fatal("no CSRF token on the sign-in page")
	}
	res, err := c.PostForm(base+"/console/signin", url.Values{"csrf": {m[1]}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/console/queue" {
		t.Fatalf("signing in as %q with the password of %s led to %s", username, staffFile, res.Request.URL)
	}
	return get("/console/queue")
}
