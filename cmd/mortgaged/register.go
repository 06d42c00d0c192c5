package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"mortgaged/internal/db"
	"mortgaged/mortgage/registerdata"
)

func registerCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("register: want import FILE or demo")
	}
	switch args[0] {
	case "demo":
		fs := flag.NewFlagSet("register demo", flag.ExitOnError)
		units := fs.Int("units", 5000, "number of property units")
		seed := fs.Int64("seed", 1, "random seed (the same seed gives the same register)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		_, err := registerdata.GenerateDemo(os.Stdout, *units, *seed)
		return err
	case "import":
		fs := flag.NewFlagSet("register import", flag.ExitOnError)
		c, err := loadConfig(fs, args[1:])
		if err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("register import: want one FILE (JSON Lines, docs/register-import.md)")
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		// One long transaction of bulk copies and checks, run by hand: the
		// server's limits for request-sized work do not fit it.
		c.DBTimeouts = db.Timeouts{}
		d, err := openAdmin(ctx, c)
		if err != nil {
			return err
		}
		defer d.Close()
		start := time.Now()
		sum, err := registerdata.Import(ctx, d.DB, f, func(lines int) {
			fmt.Fprintf(os.Stderr, "\rchecked %d lines", lines)
		})
		fmt.Fprintln(os.Stderr)
		var ie *registerdata.ImportError
		if errors.As(err, &ie) {
			for _, le := range ie.Errors {
				fmt.Fprintln(os.Stderr, le.Error())
			}
			if ie.Total > len(ie.Errors) {
				fmt.Fprintf(os.Stderr, "… and %d more\n", ie.Total-len(ie.Errors))
			}
			return fmt.Errorf("%d fault(s) in %s: nothing was imported", ie.Total, fs.Arg(0))
		}
		if err != nil {
			return err
		}
		fmt.Printf("imported in %s: %d units, %d owners, %d mortgages, %d seizures, %d objections, %d pre-registrations\n",
			time.Since(start).Round(time.Millisecond), sum.Units, sum.Owners, sum.Mortgages, sum.Seizures, sum.Objections, sum.Preregistrations)
		return nil
	}
	return fmt.Errorf("register: unknown subcommand %q", args[0])
}
