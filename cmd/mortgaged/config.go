package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"mortgaged/mortgage"
)

// config is everything the server reads from its environment, validated once.
type config struct {
	DatabaseURL  string // empty: the embedded private PostgreSQL under DataDir
	DataDir      string
	Addr         string
	MaxBodyBytes int64
	LogLevel     slog.Level
	Registration mortgage.Config
	// PauseBeforeCommit is a test hook: registrations pause inside their
	// transaction so crash tests can kill the process there.
	PauseBeforeCommit bool
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// loadConfig reads the environment; flags registered on fs may override it.
func loadConfig(fs *flag.FlagSet, args []string) (config, error) {
	c := config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		Registration: mortgage.Config{
			Province:         env("MORTGAGED_PROVINCE", "黑"),
			City:             env("MORTGAGED_CITY", "齐齐哈尔市"),
			Authority:        env("MORTGAGED_AUTHORITY", "齐齐哈尔市不动产登记中心"),
			RecordingOfficer: env("MORTGAGED_RECORDING_OFFICER", "自动登簿"),
			ObjectionPolicy:  mortgage.ObjectionPolicy(env("MORTGAGED_OBJECTION_POLICY", string(mortgage.ObjectionUndertaking))),
			FeePayer:         env("MORTGAGED_FEE_PAYER", "mortgagee"),
		},
		PauseBeforeCommit: os.Getenv("MORTGAGED_TEST_PAUSE_BEFORE_COMMIT") == "1",
	}
	fs.StringVar(&c.DataDir, "data", env("MORTGAGED_DATA", "data"), "data folder (embedded PostgreSQL, keys, demo files)")
	fs.StringVar(&c.Addr, "addr", env("MORTGAGED_ADDR", "127.0.0.1:8080"), "listen address")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	mb, err := strconv.Atoi(env("MORTGAGED_MAX_BODY_MB", "32"))
	if err != nil || mb < 1 || mb > 1024 {
		return c, fmt.Errorf("MORTGAGED_MAX_BODY_MB must be a whole number of megabytes between 1 and 1024")
	}
	c.MaxBodyBytes = int64(mb) << 20
	if err := c.LogLevel.UnmarshalText([]byte(env("MORTGAGED_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("MORTGAGED_LOG_LEVEL: %w", err)
	}
	switch c.Registration.ObjectionPolicy {
	case mortgage.ObjectionRefuse, mortgage.ObjectionUndertaking, mortgage.ObjectionAllow:
	default:
		return c, fmt.Errorf("MORTGAGED_OBJECTION_POLICY must be refuse, undertaking or allow")
	}
	switch c.Registration.FeePayer {
	case "mortgagee", "mortgagor":
	default:
		return c, fmt.Errorf("MORTGAGED_FEE_PAYER must be mortgagee or mortgagor")
	}
	loc, err := time.LoadLocation(env("MORTGAGED_TIMEZONE", "Asia/Shanghai"))
	if err != nil {
		return c, fmt.Errorf("MORTGAGED_TIMEZONE: %w", err)
	}
	c.Registration.Location = loc
	return c, nil
}
