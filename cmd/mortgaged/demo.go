package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/config"
	accounts "mortgaged/internal/staff"
	"mortgaged/mortgage"
	"mortgaged/mortgage/calendar"
	"mortgaged/mortgage/registerdata"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
	"mortgaged/server/console"
)

// Demo sizes: big enough to look like a district, small enough to load in
// a couple of seconds on first run.
const (
	demoUnits = 5000
	demoSeed  = 1
)

// loadDemo loads the demo register and partners into an empty database and
// writes the demo bank's key and sample bundles under DATA/demo; it adds demo
// staff accounts (passwords in DATA/demo/staff.txt) and submits a week of the
// partners' work, so the staff console has something to show. On a database
// that already has partners it loads nothing. It returns the demo folder.
func loadDemo(ctx context.Context, c config.Config, d *database, svc *mortgage.Service, reg *partners.Registry, log *slog.Logger) (string, error) {
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
	if err := addDemoStaff(ctx, d, dir); err != nil {
		return "", err
	}
	if err := submitDemoWeek(ctx, svc, demo, log); err != nil {
		return "", fmt.Errorf("demo week: %w", err)
	}
	return dir, nil
}

// Demo console accounts; their names are among the register's past 登簿人.
const demoReviewer = "wangli"

var demoStaff = []console.Staff{
	{Username: "zhaolei", DisplayName: "赵磊", Role: console.RoleSupervisor},
	{Username: demoReviewer, DisplayName: "王丽", Role: console.RoleReviewer},
	{Username: "sunyue", DisplayName: "孙悦", Role: console.RoleAuditor},
}

// addDemoStaff makes the demo console accounts with random passwords and
// writes them to DATA/demo/staff.txt (0600): a header, then one account a
// line, tab-separated: username, role, name, password.
func addDemoStaff(ctx context.Context, d *database, dir string) error {
	var b strings.Builder
	b.WriteString("# Staff console accounts of the demo (serve --demo). Sign in at /console/ on the\n" +
		"# server, e.g. http://127.0.0.1:8080/console/. Fields are separated by tabs.\n" +
		"# username\trole\tname\tpassword\n")
	for _, st := range demoStaff {
		password := rand.Text() // 26 characters, 128 random bits
		if err := accounts.NewStore(d.DB).Add(ctx, "demo", st, password); err != nil {
			return fmt.Errorf("demo staff %s: %w", st.Username, err)
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", st.Username, st.Role, st.DisplayName, password)
	}
	return os.WriteFile(filepath.Join(dir, "staff.txt"), []byte(b.String()), 0o600)
}

// submitDemoWeek submits the partners' past week (registerdata.DemoDay)
// through the registration service, each bundle decoded from the JSON a
// bank would send and received at its own time on the service's clock. The
// bundles left at the desk, but for the two latest, are given to the demo
// reviewer. Without the calendar year of a bundle's deadline (a demo started
// in a year whose holiday notice is not loaded) that bundle is left out.
func submitDemoWeek(ctx context.Context, svc *mortgage.Service, demo registerdata.Demo, log *slog.Logger) error {
	clock, hook := svc.Now, svc.BeforeCommit
	svc.BeforeCommit = nil                                     // a test hook pausing registrations is not for the demo
	defer func() { svc.Now, svc.BeforeCommit = clock, hook }() // the real clock again, whatever happens
	loc := svc.Config.Location
	render := func(d *mortgage.Decision) (mortgage.Answer, error) {
		b, err := centrejson.EncodeDecision(d, loc)
		return mortgage.Answer{Status: 201, Body: b}, err
	}
	type desk struct {
		id string
		at time.Time
	}
	var atDesk []desk
	skipped := 0
	for _, s := range registerdata.DemoDay(demo, clock().In(loc)) {
		body, err := centrejson.EncodeApplication(s.App)
		if err != nil {
			return err
		}
		app, issues, err := centrejson.Decode(body)
		if err != nil || len(issues) > 0 {
			return fmt.Errorf("%s: decode: %v %v", s.App.Reference, err, issues)
		}
		at := s.At
		svc.Now = func() time.Time { return at }
		out, err := svc.Submit(ctx, mortgage.Submitter{PartnerID: s.Partner.ID, CreditCode: s.Partner.CreditCode}, app, render)
		if errors.Is(err, calendar.ErrNotLoaded) {
			skipped++
			continue
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.Partner.ID, s.App.Reference, err)
		}
		if out.Decision.Status != s.Want {
			return fmt.Errorf("%s %s: %s, want %s", s.Partner.ID, s.App.Reference, out.Decision.Status, s.Want)
		}
		if s.Want == mortgage.StatusDesk {
			atDesk = append(atDesk, desk{out.Decision.BundleID, at})
		}
	}
	if skipped > 0 {
		log.Warn("demo: bundles for the desk left out: the calendar year of their deadline is not loaded", slog.Int("bundles", skipped))
	}
	supervisor := mortgage.Officer{Username: demoStaff[0].Username, DisplayName: demoStaff[0].DisplayName, Role: string(demoStaff[0].Role)}
	for _, b := range atDesk[:max(0, len(atDesk)-2)] {
		at := b.at.Add(12 * time.Minute)
		if now := clock(); at.After(now) {
			at = now
		}
		svc.Now = func() time.Time { return at }
		if err := svc.Reassign(ctx, b.id, demoReviewer, supervisor); err != nil {
			return err
		}
	}
	return nil
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
		call, base, certkeys.KeySetPath, base)
	if staff := filepath.Join(dir, "staff.txt"); fileExists(staff) {
		var who []string
		for _, st := range demoStaff {
			who = append(who, fmt.Sprintf("%s (%s)", st.Username, st.Role))
		}
		fmt.Fprintf(&b, "The staff console holds a week of the demo partners' work: the queue, bundles at the\n"+
			"desk, the dashboard (docs/console.md):\n\n  %s/console/\n\n"+
			"Sign in as %s or %s;\nthe passwords are in %s.\n\n",
			base, strings.Join(who[:len(who)-1], ", "), who[len(who)-1], staff)
	}
	fmt.Fprintf(&b, "The partner guide is docs/integration-guide.md. Stop with Ctrl-C.\n")
	return b.String()
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
