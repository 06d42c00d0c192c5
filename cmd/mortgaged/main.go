// Command mortgaged is the mortgage registration server of the real-estate
// registration centre and its administration tool.
//
//	mortgaged serve [--demo]          run the server
//	mortgaged migrate                 bring the database schema up to date
//	mortgaged register import FILE    load a register from JSON Lines
//	mortgaged register demo [-units N] [-seed S]   write a demo register to stdout
//	mortgaged partner add|list|rotate-key|disable|limits|push    manage partners
//	mortgaged call -key-file FILE METHOD PATH [@BODY]            a signed request
//	mortgaged partner push|webhook-secret   where, when and how events are pushed
//	mortgaged events dead|redeliver   dead letters of the push
//	mortgaged keys list|rotate        certificate-signing keys
//	mortgaged verify [-keys K] FILE   check a certificate's signature offline
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/config"
	"mortgaged/internal/db"
	"mortgaged/internal/pgcluster"
)

const usage = `mortgaged: mortgage registration for the real-estate registration centre

Commands:
  serve [--demo]                        run the server (--demo loads a demo register and partners on first run)
  migrate                               apply database migrations and exit
  register import FILE                  load a register from a JSON Lines file (docs/register-import.md)
  register demo [-units N] [-seed S]    write a demo Qiqihar register as JSON Lines to stdout
  partner add -id ID -kind bank|fund_centre -name NAME -credit-code CODE [-format F]
                                        onboard a partner; prints its signing key once
  partner list
  partner rotate-key ID [-overlap 168h] issue a new signing key; the old ones work for the overlap
  partner disable ID                    stop a partner: its keys no longer authenticate
  partner limits ID [-format F] [-rate N] [-concurrent N] [-client-certs FP,FP]
                                        set format, per-minute rate, concurrency, mutual-TLS certificates
  partner push ID [-callback URL -schedule '@every 1m'|'0 18 * * *' -mode each|batch] [-disable]
                                        show or set the partner's event push (a new webhook secret is shown once)
  partner webhook-secret ID             replace the partner's webhook secret (shown once)
  events dead [-partner ID]             list events the push gave up on (dead letters)
  events redeliver EVENT_ID...          push dead letters again at the partner's next run
  call -key-file FILE METHOD PATH [@BODY]
                                        send one signed request as a partner (docs/signed-requests.md)
  staff add -username U -name 姓名 -role reviewer|supervisor|auditor [-password-file F]
                                        create a console account (password from the file, a prompt, or stdin)
  staff list | staff disable U          list accounts; disable one (its sessions end)
  keys list                             list the certificate-signing keys, active and retired
  keys rotate                           retire the signing key and make a new one
  verify [-keys FILE_OR_URL] FILE       check a certificate envelope's signature offline
                                        against the published keys (exit status 1 if invalid)

Configuration is read from the environment (see README.md); every command
accepts -data DIR. Without DATABASE_URL the server runs its own PostgreSQL
under DIR/pg. Only serve and migrate change the schema; the other commands
refuse a database older or newer than this binary.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mortgaged:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	f, ok := commands[cmd]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	return f(ctx, rest)
}

// commands are the subcommands, each given the arguments after its name.
var commands = map[string]func(ctx context.Context, args []string) error{
	"serve":    serve,
	"migrate":  migrate,
	"register": registerCmd,
	"call":     call,
	"partner":  partnerCmd,
	"events":   eventsCmd,
	"keys":     keysCmd,
	"verify":   func(ctx context.Context, args []string) error { return verifyCmd(ctx, args, os.Stdout) },
	"staff":    staffCmd,
}

func newLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// database is an open, migrated database and how to let go of it.
type database struct {
	*sqlx.DB
	cluster *pgcluster.Cluster // nil with DATABASE_URL
	stop    bool               // we started the cluster, so we stop it
}

// openDatabase connects to DATABASE_URL, or starts (or reuses) the embedded
// cluster under the data folder. With migrate (serve, migrate) it brings
// the schema up to date; otherwise (the admin commands) it refuses a
// schema older or newer than this binary's, leaving it as it is.
func openDatabase(ctx context.Context, c config.Config, log *slog.Logger, migrate bool) (*database, error) {
	d := &database{}
	url := c.DatabaseURL
	if url == "" {
		// The cluster runs as the postgres user when we are root: it must be
		// able to pass through the data folder, though not to list it.
		if err := os.MkdirAll(c.DataDir, 0o711); err != nil {
			return nil, err
		}
		cl, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(c.DataDir, "pg"), Fsync: true, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		d.cluster, d.stop = cl, !cl.Reused()
		if err := ensureDatabase(ctx, cl); err != nil {
			d.Close()
			return nil, err
		}
		url = cl.URL("mortgaged")
	}
	conn, err := db.OpenWith(ctx, url, c.DBTimeouts)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.DB = conn
	if migrate {
		_, err = db.Migrate(ctx, conn, log)
	} else {
		err = db.CheckVersion(ctx, conn)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// ensureDatabase creates the application database in a fresh embedded cluster.
func ensureDatabase(ctx context.Context, cl *pgcluster.Cluster) error {
	admin, err := db.Open(ctx, cl.URL("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close()
	var exists bool
	if err := admin.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'mortgaged')`); err != nil {
		return err
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE mortgaged`); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
	}
	return nil
}

// adminDB loads the configuration with fs's flags from args and opens the
// database as every admin command does (openAdmin); the caller closes it.
func adminDB(ctx context.Context, fs *flag.FlagSet, args []string) (config.Config, *database, error) {
	c, err := loadConfig(fs, args)
	if err != nil {
		return c, nil, err
	}
	d, err := openAdmin(ctx, c)
	return c, d, err
}

// openAdmin opens the database for an admin command: the schema checked,
// not migrated (only serve and migrate change it), logging at c's level.
func openAdmin(ctx context.Context, c config.Config) (*database, error) {
	return openDatabase(ctx, c, newLogger(c.LogLevel), false)
}

// Close closes the pool, then stops the embedded cluster if we started it.
func (d *database) Close() {
	if d.DB != nil {
		d.DB.Close()
	}
	if d.cluster != nil && d.stop {
		if err := d.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "mortgaged: stop embedded PostgreSQL:", err)
		}
	}
}

func migrate(ctx context.Context, args []string) error {
	c, err := loadConfig(flag.NewFlagSet("migrate", flag.ExitOnError), args)
	if err != nil {
		return err
	}
	log := newLogger(c.LogLevel)
	d, err := openDatabase(ctx, c, log, true)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Println("database schema is up to date")
	return nil
}
