package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"mortgaged/internal/signing"
	"mortgaged/mortgage"
	"mortgaged/mortgage/registerdata"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
)

// Demo sizes: big enough to look like a district, small enough to load in
// a couple of seconds on first run.
const (
	demoUnits = 5000
	demoSeed  = 1
)

// loadDemo loads the demo register and partners into an empty database and
// writes the demo bank's key and sample bundles under DATA/demo. On a database
// that already has partners it loads nothing. It returns the demo folder.
func loadDemo(ctx context.Context, c config, d *database, svc *mortgage.Service, reg *partners.Registry) (string, error) {
	dir := filepath.Join(c.DataDir, "demo")
	existing, err := reg.List(ctx)
	if err != nil {
		return "", err
	}
	if len(existing) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "lj-bank.key")); err != nil {
			return "", fmt.Errorf("the database already has partners but %s has no demo key: start without --demo, or with an empty -data folder", dir)
		}
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	var register bytes.Buffer
	demo, err := registerdata.GenerateDemo(&register, demoUnits, demoSeed)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "register.jsonl"), register.Bytes(), 0o600); err != nil {
		return "", err
	}
	if _, err := registerdata.Import(ctx, d.DB, &register, nil); err != nil {
		return "", fmt.Errorf("import demo register: %w", err)
	}
	for _, p := range demo.Partners {
		if err := reg.Add(ctx, partners.Partner{ID: p.ID, Kind: p.Kind, Name: p.Name, CreditCode: p.CreditCode}); err != nil {
			return "", err
		}
		key, err := reg.IssueKey(ctx, p.ID)
		if err != nil {
			return "", err
		}
		// Demo keys are kept in the data folder so the printed commands work
		// on every start; real partners' keys are shown once and never stored.
		if err := os.WriteFile(filepath.Join(dir, p.ID+".key"), []byte(key+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	for name, app := range registerdata.SampleBundles(demo, svc.Today()) {
		body, err := centrejson.EncodeApplication(app)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), body, 0o600); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// nextSteps tells a newcomer what to do with the running demo.
func nextSteps(addr, dir string) string {
	base := "http://" + addr
	key := filepath.Join(dir, "lj-bank.key")
	samples, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(samples)
	var b strings.Builder
	fmt.Fprintf(&b, "\nmortgaged is running at %s with a demo Qiqihar register.\n\n", base)
	fmt.Fprintf(&b, "Register a sample mortgage as the demo bank (lj-bank). Partner requests are signed\n"+
		"(docs/signed-requests.md), so send them with the built-in client rather than curl:\n\n")
	call := fmt.Sprintf("go run ./cmd/mortgaged call -url %s -key-file %s", base, key)
	fmt.Fprintf(&b, "  %s \\\n    POST /v1/bundles @%s\n\n", call, filepath.Join(dir, registerdata.SampleFirstGeneral+".json"))
	fmt.Fprintf(&b, "Other samples (send them the same way):\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	fmt.Fprintf(&b, "\nLook a bundle up by the bank's reference:\n\n  %s GET '/v1/bundles?reference=REFERENCE'\n\n", call)
	fmt.Fprintf(&b, "Fetch a registration's electronic certificate (number from the answer) and check it offline:\n\n"+
		"  %s GET '/v1/certificates/NUMBER?envelope=1' > certificate.json\n"+
		"  go run ./cmd/mortgaged verify -keys %s%s certificate.json\n\n"+
		"Anyone can check it at %s/verify/page (number and verificationCode from certificate.json).\n\n",
		call, base, signing.KeySetPath, base)
	fmt.Fprintf(&b, "The partner guide is docs/integration-guide.md. Stop with Ctrl-C.\n")
	return b.String()
}
