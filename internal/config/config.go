// Package config is mortgaged's configuration: every environment variable
// the server and its commands read, declared once in Vars with its default
// and meaning. Load reads and validates them all before anything starts;
// README.md's configuration table is generated from the same list
// (go generate ./internal/config), and a test fails when they differ.
//
// The crash tests' hook (MORTGAGED_TEST_PAUSE_BEFORE_COMMIT) is not here on
// purpose: it exists only in a binary built with -tags crashtest.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"mortgaged/internal/db"
	"mortgaged/mortgage"
	"mortgaged/sync/push"
)

// Config is everything mortgaged reads from its environment, validated.
type Config struct {
	DatabaseURL  string // empty: the embedded private PostgreSQL under DataDir
	DataDir      string
	Addr         string
	MaxBodyBytes int64
	LogLevel     slog.Level
	Registration mortgage.Config
	// MasterKey is MORTGAGED_MASTER_KEY (base64); empty means DataDir/master.key.
	// It seals signing keys and webhook secrets: every node must share it.
	MasterKey string
	// PublicURL is where people reach the server (QR codes, print views).
	PublicURL string
	// DialectDir holds bank dialect mapping files; empty means the shipped ones.
	DialectDir string
	// TLS: the server's certificate and key (PEM); with ClientCA, partners
	// may present client certificates signed by it (mutual TLS).
	TLSCert, TLSKey, TLSClientCA string
	// MetricsAddr is where /metrics is served, apart from the public
	// listener; empty when off.
	MetricsAddr string
	// BodyBudgetBytes bounds the request bodies held at once (all partners).
	BodyBudgetBytes int64
	// MemoryLimitBytes is the Go runtime's soft memory limit; 0: none
	// (or GOMEMLIMIT is set, which the runtime reads itself).
	MemoryLimitBytes int64
	// DBTimeouts bound each pooled session's statements and open transactions.
	DBTimeouts db.Timeouts
	Push       Push
	Batch      Batch
	Console    Console
	Retention  Retention
	// ServerURL is where `mortgaged call` sends its requests.
	ServerURL string
}

// Push is the event push's settings on this node.
type Push struct {
	Off       bool // this node serves the API but pushes nothing
	Config    push.Config
	Reconcile time.Duration
}

// Batch configures batch uploads and their processing on this node.
type Batch struct {
	Off      bool // this node accepts uploads but decides no records
	MaxBytes int64
	Parallel int
	Lease    time.Duration
	Poll     time.Duration
	Retry    time.Duration
}

// Console is the staff console's session settings.
type Console struct {
	SecureCookies bool
	IdleTimeout   time.Duration
	MaxLifetime   time.Duration
}

// Retention is how long data that is no part of the register is kept
// before the retention job removes it (docs/retention.md).
type Retention struct {
	Off             bool          // this node never runs the job
	BatchChunks     time.Duration // a finished batch's uploaded file
	DeliveredEvents time.Duration // an event the partner received
	Deliveries      time.Duration // the record of one delivery attempt
	Interval        time.Duration // how often the job runs
}

// Load reads every variable of Vars through lookup (os.LookupEnv in
// production; an empty value counts as unset), applies the defaults and
// validates the whole; the first fault is returned, naming its variable.
func Load(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	get := func(name string) string {
		if v, ok := lookup(name); ok && v != "" {
			return v
		}
		return ""
	}
	for _, v := range Vars {
		val := get(v.Name)
		if val == "" {
			val = v.Default
		}
		if err := v.set(&c, val); err != nil {
			return c, err
		}
	}
	return c, c.check(get)
}

// FromEnv is Load over the process environment.
func FromEnv() (Config, error) { return Load(os.LookupEnv) }

// Defaults is the configuration with nothing set, as a fresh installation
// runs: the benchmarks and tools start from it.
func Defaults() Config {
	c, err := Load(func(string) (string, bool) { return "", false })
	if err != nil {
		panic(fmt.Sprintf("config: the defaults do not validate: %v", err)) // a fault in Vars
	}
	return c
}

// check validates what spans several variables, once each has its value.
func (c *Config) check(get func(string) string) error {
	for name, r := range Retired {
		if v := get(name); v != "" && v != r.Keeps {
			return fmt.Errorf("%s=%q is no longer accepted: %s", name, v, r.Why)
		}
	}
	if c.Push.Config.Lease < c.Push.Config.Timeout+5*time.Second {
		return fmt.Errorf("MORTGAGED_PUSH_LEASE (%v) must exceed MORTGAGED_PUSH_TIMEOUT (%v) by at least 5s: a claim must outlive its POST", c.Push.Config.Lease, c.Push.Config.Timeout)
	}
	if c.TLSCert == "" && c.TLSKey == "" && c.TLSClientCA != "" {
		return fmt.Errorf("MORTGAGED_TLS_CLIENT_CA needs MORTGAGED_TLS_CERT and MORTGAGED_TLS_KEY")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("MORTGAGED_TLS_CERT and MORTGAGED_TLS_KEY go together: set both or neither")
	}
	c.Registration.Calendar.Location = c.Registration.Location
	if c.Registration.Calendar.CutOff > c.Registration.Calendar.Close {
		return fmt.Errorf("MORTGAGED_CUTOFF (%s) must not be after MORTGAGED_CLOSE (%s)", clockString(c.Registration.Calendar.CutOff), clockString(c.Registration.Calendar.Close))
	}
	// GOMEMLIMIT, when set, is the runtime's own and wins.
	if get("GOMEMLIMIT") != "" {
		c.MemoryLimitBytes = 0
	}
	if get("MORTGAGED_CONSOLE_SECURE_COOKIES") == "" {
		c.Console.SecureCookies = len(c.PublicURL) > 8 && c.PublicURL[:8] == "https://"
	}
	return nil
}

// MasterKeyFile is where the master key is kept without MORTGAGED_MASTER_KEY.
func (c Config) MasterKeyFile() string { return filepath.Join(c.DataDir, "master.key") }
