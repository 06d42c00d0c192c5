package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"mortgaged/internal/app"
	"mortgaged/mortgage"
	"mortgaged/partners"
)

func partnerCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("partner: want add, list, rotate-key, disable, limits, mortgagee, push or webhook-secret")
	}
	fs := flag.NewFlagSet("partner "+args[0], flag.ExitOnError)
	var p partners.Partner
	if args[0] == "add" {
		fs.StringVar(&p.ID, "id", "", "partner id, e.g. lj-bank (lower case, digits, hyphens)")
		fs.StringVar(&p.Kind, "kind", partners.KindBank, "bank or fund_centre")
		fs.StringVar(&p.Name, "name", "", "legal name")
		fs.StringVar(&p.CreditCode, "credit-code", "", "unified social credit code (18 characters)")
		fs.StringVar(&p.Format, "format", "", "wire format: centre-json-v1 (default for banks), centre-xml-v1, a bank dialect name, fund-batch-v1 (default for the fund centre)")
	}
	overlap := fs.Duration("overlap", 7*24*time.Hour, "how long the old keys keep working after rotate-key")
	var limits struct {
		format     string
		rate, conc int
		certs      string
		quota      int
	}
	if args[0] == "limits" {
		fs.IntVar(&limits.quota, "encumbrance-quota", 0, "encumbrance queries a business day (0 stops them); -1 returns to the centre's MORTGAGED_ENCUMBRANCE_QUOTA; unset keeps")
		fs.StringVar(&limits.format, "format", "", "wire format")
		fs.IntVar(&limits.rate, "rate", 0, "requests per minute, per node")
		fs.IntVar(&limits.conc, "concurrent", 0, "requests in flight, per node")
		fs.StringVar(&limits.certs, "client-certs", "-", "comma-separated SHA-256 fingerprints (hex) of client certificates for mutual TLS; empty clears; - keeps")
	}
	var pf pushFlags
	if args[0] == "push" {
		pf.define(fs)
	}
	var mf mortgageeFlags
	if args[0] == "mortgagee" {
		mf.define(fs)
	}
	c, err := loadConfig(fs, idLast(args[1:]))
	if err != nil {
		return err
	}
	// Checked before anything is opened: a negative overlap would expire
	// the partner's current keys in the past, cutting it off at once.
	if args[0] == "rotate-key" && *overlap < 0 {
		return fmt.Errorf("partner rotate-key: -overlap %s is negative; use 0 to stop the old keys at once", *overlap)
	}
	if args[0] == "mortgagee" {
		if err := mf.check(); err != nil {
			return err
		}
	}
	d, err := openAdmin(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	// Signing secrets are derived from, and webhook secrets sealed under,
	// the master key.
	sealer, err := app.OpenSealer(c)
	if err != nil {
		return err
	}
	reg := &partners.Registry{DB: d.DB, Sealer: sealer}
	if reg.Formats, err = app.Formats(c); err != nil { // -format is checked against what serve speaks
		return err
	}
	switch args[0] {
	case "push", "webhook-secret", "rotate-key", "disable", "limits", "mortgagee":
		if fs.NArg() != 1 {
			return fmt.Errorf("partner %s: want the partner id", args[0])
		}
	}
	switch args[0] {
	case "push":
		return partnerPush(ctx, reg, fs.Arg(0), pf)
	case "mortgagee":
		return partnerMortgagee(ctx, reg, fs.Arg(0), mf)
	case "webhook-secret":
		return partnerWebhookSecret(ctx, reg, fs.Arg(0))
	case "add":
		if p.ID == "" || p.Name == "" {
			return errors.New("partner add: -id and -name are required")
		}
		if code := mortgage.CheckCreditCode(p.CreditCode); code != "" {
			return fmt.Errorf("partner add: -credit-code %q: %s", p.CreditCode, code)
		}
		if err := reg.Add(ctx, p); err != nil {
			return err
		}
		key, err := reg.IssueKey(ctx, p.ID)
		if err != nil {
			return err
		}
		fmt.Printf("partner %s added.\nSigning key (shown once; store it in the bank's secret store; see docs/signed-requests.md):\n%s\n", p.ID, key)
	case "list":
		ps, err := reg.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tFORMAT\tCREDIT CODE\tENABLED\tRATE/MIN\tCONCURRENT\tNAME")
		for _, p := range ps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%d\t%d\t%s\n", p.ID, p.Kind, p.Format, p.CreditCode, p.Enabled, p.RatePerMinute, p.MaxConcurrent, p.Name)
		}
		return tw.Flush()
	case "rotate-key":
		key, err := reg.RotateKey(ctx, fs.Arg(0), *overlap)
		if err != nil {
			return err
		}
		fmt.Printf("new signing key for %s (shown once); the old keys keep working for %s:\n%s\n", fs.Arg(0), *overlap, key)
	case "disable":
		if err := reg.Disable(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Printf("partner %s disabled: its keys no longer authenticate\n", fs.Arg(0))
	case "limits":
		quotaSet := false
		fs.Visit(func(f *flag.Flag) { quotaSet = quotaSet || f.Name == "encumbrance-quota" })
		if quotaSet && limits.quota < -1 {
			return fmt.Errorf("partner limits: -encumbrance-quota %d: want a number of queries a day, or -1 for the centre's default", limits.quota)
		}
		var certs []string
		if limits.certs != "-" {
			certs = []string{}
			for _, c := range strings.Split(limits.certs, ",") {
				if c = strings.ToLower(strings.TrimSpace(c)); c != "" {
					certs = append(certs, c)
				}
			}
		}
		if err := reg.SetLimits(ctx, fs.Arg(0), limits.format, limits.rate, limits.conc, certs); err != nil {
			return err
		}
		if quotaSet {
			if err := reg.SetEncumbranceQuota(ctx, fs.Arg(0), limits.quota); err != nil {
				return err
			}
		}
		fmt.Printf("partner %s updated\n", fs.Arg(0))
	default:
		return fmt.Errorf("partner: unknown subcommand %q", args[0])
	}
	return nil
}

// mortgageeFlags are partner mortgagee's: add or remove a branch's name and
// credit code, or (neither) list them.
type mortgageeFlags struct {
	add, remove bool
	name, code  string
}

func (f *mortgageeFlags) define(fs *flag.FlagSet) {
	fs.BoolVar(&f.add, "add", false, "let the partner name this branch as mortgagee (with -name and -credit-code)")
	fs.BoolVar(&f.remove, "remove", false, "stop the partner naming this branch as mortgagee (with -credit-code)")
	fs.StringVar(&f.name, "name", "", "the branch's legal name, exactly as on its business licence")
	fs.StringVar(&f.code, "credit-code", "", "the branch's unified social credit code (18 characters)")
}

func (f *mortgageeFlags) check() error {
	f.name, f.code = strings.TrimSpace(f.name), strings.ToUpper(strings.TrimSpace(f.code))
	switch {
	case f.add && f.remove:
		return errors.New("partner mortgagee: -add or -remove, not both")
	case f.add && f.name == "":
		return errors.New("partner mortgagee -add: -name is required")
	case (f.add || f.remove) && f.code == "":
		return errors.New("partner mortgagee: -credit-code is required")
	case f.add:
		if code := mortgage.CheckCreditCode(f.code); code != "" {
			return fmt.Errorf("partner mortgagee -add: -credit-code %q: %s", f.code, code)
		}
	case !f.remove && (f.name != "" || f.code != ""):
		return errors.New("partner mortgagee: -name and -credit-code go with -add or -remove")
	}
	return nil
}

// partnerMortgagee lists, adds or removes the names and credit codes a
// partner may register mortgages under (PROMISES S8).
func partnerMortgagee(ctx context.Context, reg *partners.Registry, id string, f mortgageeFlags) error {
	switch {
	case f.add:
		if err := reg.AddMortgagee(ctx, id, f.name, f.code); err != nil {
			return err
		}
		fmt.Printf("partner %s may now name %s (%s) as mortgagee\n", id, f.name, f.code)
		return nil
	case f.remove:
		if err := reg.RemoveMortgagee(ctx, id, f.code); err != nil {
			return err
		}
		fmt.Printf("partner %s may no longer name %s as mortgagee\n", id, f.code)
		return nil
	}
	ms, err := reg.Mortgagees(ctx, id)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREDIT CODE\tOWN\tNAME")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%v\t%s\n", m.CreditCode, m.Own, m.Name)
	}
	return tw.Flush()
}
