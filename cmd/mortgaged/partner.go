package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"mortgaged/mortgage"
	"mortgaged/partners"
)

func partnerCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("partner: want add, list, key, push or webhook-secret")
	}
	fs := flag.NewFlagSet("partner "+args[0], flag.ExitOnError)
	var p partners.Partner
	if args[0] == "add" {
		fs.StringVar(&p.ID, "id", "", "partner id, e.g. lj-bank (lower case, digits, hyphens)")
		fs.StringVar(&p.Kind, "kind", partners.KindBank, "bank or fund_centre")
		fs.StringVar(&p.Name, "name", "", "legal name")
		fs.StringVar(&p.CreditCode, "credit-code", "", "unified social credit code (18 characters)")
	}
	var pf pushFlags
	if args[0] == "push" {
		pf.define(fs)
	}
	c, err := loadConfig(fs, idLast(args[1:]))
	if err != nil {
		return err
	}
	d, err := openDatabase(ctx, c, newLogger(c.LogLevel))
	if err != nil {
		return err
	}
	defer d.Close()
	reg := &partners.Registry{DB: d.DB}
	if args[0] == "push" || args[0] == "webhook-secret" {
		// Webhook secrets are sealed under the master key.
		if reg.Sealer, err = c.sealer(); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("partner %s: want the partner id", args[0])
		}
	}
	switch args[0] {
	case "push":
		return partnerPush(ctx, reg, fs.Arg(0), pf)
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
		fmt.Printf("partner %s added.\nAPI key (shown once; store it in the bank's secret store):\n%s\n", p.ID, key)
	case "list":
		ps, err := reg.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tCREDIT CODE\tENABLED\tNAME")
		for _, p := range ps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", p.ID, p.Kind, p.CreditCode, p.Enabled, p.Name)
		}
		return tw.Flush()
	case "key":
		if fs.NArg() != 1 {
			return errors.New("partner key: want the partner id")
		}
		key, err := reg.IssueKey(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Printf("new API key for %s (shown once):\n%s\n", fs.Arg(0), key)
	default:
		return fmt.Errorf("partner: unknown subcommand %q", args[0])
	}
	return nil
}
