package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddedDatabaseSurvivesRestart runs the README's command — serve
// --demo without DATABASE_URL — registers the sample bundle, stops the
// server, starts it again and finds the registration intact.
func TestEmbeddedDatabaseSurvivesRestart(t *testing.T) {
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
