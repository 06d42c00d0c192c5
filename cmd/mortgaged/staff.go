package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	accounts "mortgaged/internal/staff"
	"mortgaged/server/console"
)

const staffUsage = `staff add -username U -name 姓名 -role reviewer|supervisor|auditor [-password-file F]
                                        create a console account; the password is read from
                                        -password-file, else prompted for, else read from stdin
  staff list                            list console accounts
  staff disable U                       stop U signing in and end U's sessions`

// staffCmd manages the accounts of the staff console.
func staffCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("staff: want add, list or disable\n  " + staffUsage)
	}
	fs := flag.NewFlagSet("staff "+args[0], flag.ExitOnError)
	var st console.Staff
	var role, passwordFile string
	if args[0] == "add" {
		fs.StringVar(&st.Username, "username", "", "sign-in name: lower case letters, digits, '.', '_', '-'")
		fs.StringVar(&st.DisplayName, "name", "", "full name, recorded as 登簿人 when they approve")
		fs.StringVar(&role, "role", "", "reviewer, supervisor or auditor")
		fs.StringVar(&passwordFile, "password-file", "", "read the password from this file (first line)")
	}
	c, err := loadConfig(fs, idLast(args[1:]))
	if err != nil {
		return err
	}
	var password string
	switch args[0] {
	case "add":
		st.Role = console.Role(role)
		if st.Username == "" || st.DisplayName == "" || !st.Role.Valid() {
			return errors.New("staff add: -username, -name and -role reviewer|supervisor|auditor are required")
		}
		// Ask before starting the database, so a typo costs nothing.
		if password, err = readPassword(passwordFile); err != nil {
			return fmt.Errorf("staff add: %w", err)
		}
		if len([]rune(password)) < accounts.MinPasswordLength {
			return fmt.Errorf("staff add: %w", accounts.ErrWeakPassword)
		}
	case "list":
	case "disable":
		if fs.NArg() != 1 {
			return errors.New("staff disable: want the username")
		}
	default:
		return fmt.Errorf("staff: unknown subcommand %q\n  %s", args[0], staffUsage)
	}
	d, err := openAdmin(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	switch args[0] {
	case "add":
		if err := accounts.NewStore(d.DB).Add(ctx, "cli", st, password); err != nil {
			return err
		}
		fmt.Printf("staff %s (%s, %s) added; they sign in at %s/console/\n", st.Username, st.DisplayName, st.Role, c.PublicURL)
	case "list":
		ss, err := accounts.NewStore(d.DB).List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tDISABLED\tCREATED\tNAME")
		for _, s := range ss {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", s.Username, s.Role, s.Disabled,
				s.CreatedAt.In(c.Registration.Location).Format(time.DateTime), s.DisplayName)
		}
		return tw.Flush()
	case "disable":
		if err := accounts.NewStore(d.DB).Disable(ctx, "cli", fs.Arg(0)); err != nil {
			return err
		}
		fmt.Printf("staff %s disabled; their sessions are ended\n", fs.Arg(0))
	}
	return nil
}

// readPassword reads a new password from a file, from the terminal (twice,
// without echo) or from the first line of stdin.
func readPassword(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return firstLine(string(b)), nil
	}
	fd := int(os.Stdin.Fd())
	if term.IsTerminal(fd) {
		fmt.Fprintf(os.Stderr, "password (at least %d characters): ", accounts.MinPasswordLength)
		p1, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(os.Stderr, "again: ")
		p2, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return firstLine(line), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
