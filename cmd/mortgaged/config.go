package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"mortgaged/partners/dialects"
	"mortgaged/partners/formats"
	"mortgaged/partners/xmlmap"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mortgaged/internal/db"
	"mortgaged/internal/seal"
	"mortgaged/mortgage"
	"mortgaged/server"
)

// config is everything the server reads from its environment, validated once.
type config struct {
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
	// MemoryLimitBytes is the Go runtime's soft memory limit; 0: none.
	MemoryLimitBytes int64
	// DBTimeouts bound each pooled session's statements and open
	// transactions (MORTGAGED_STATEMENT_TIMEOUT, MORTGAGED_IDLE_TX_TIMEOUT).
	DBTimeouts db.Timeouts
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
		MasterKey:   os.Getenv("MORTGAGED_MASTER_KEY"),
		PublicURL:   strings.TrimRight(env("MORTGAGED_PUBLIC_URL", "http://127.0.0.1:8080"), "/"),
		DialectDir:  os.Getenv("MORTGAGED_DIALECT_DIR"),
		TLSCert:     os.Getenv("MORTGAGED_TLS_CERT"),
		TLSKey:      os.Getenv("MORTGAGED_TLS_KEY"),
		TLSClientCA: os.Getenv("MORTGAGED_TLS_CLIENT_CA"),
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
	if err := c.loadLimits(); err != nil {
		return c, err
	}
	for _, d := range []struct {
		name, def string
		into      *time.Duration
	}{
		{"MORTGAGED_STATEMENT_TIMEOUT", "30s", &c.DBTimeouts.Statement},
		{"MORTGAGED_IDLE_TX_TIMEOUT", "60s", &c.DBTimeouts.IdleInTransaction},
	} {
		v, err := time.ParseDuration(env(d.name, d.def))
		if err != nil || v < 0 {
			return c, fmt.Errorf("%s must be a duration such as %s (0 turns it off)", d.name, d.def)
		}
		*d.into = v
	}
	quota, err := strconv.Atoi(env("MORTGAGED_ENCUMBRANCE_QUOTA", strconv.Itoa(mortgage.DefaultEncumbranceQuota)))
	if err != nil || quota < 1 {
		return c, fmt.Errorf("MORTGAGED_ENCUMBRANCE_QUOTA must be a whole number of encumbrance queries a partner may make a day, at least 1")
	}
	c.Registration.EncumbranceQuota = quota
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
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("MORTGAGED_PUBLIC_URL must be an http or https URL, e.g. https://bdc.example.gov.cn")
	}
	return c, nil
}

// sealer opens the master key (MORTGAGED_MASTER_KEY, else DataDir/master.key,
// created on first use) that protects secrets at rest.
func (c config) sealer() (*seal.Sealer, error) {
	k, err := seal.LoadMasterKey(c.MasterKey, filepath.Join(c.DataDir, "master.key"))
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return seal.New(k)
}

// formats loads the wire formats, with the bank dialects from DialectDir or
// the shipped mapping files: a broken mapping file stops the server here.
func (c config) formats() (*formats.Set, error) {
	var set *xmlmap.Set
	var err error
	if c.DialectDir != "" {
		set, err = xmlmap.LoadDir(c.DialectDir)
	} else {
		set, err = xmlmap.Load(dialects.Files)
	}
	if err != nil {
		return nil, fmt.Errorf("bank dialects: %w", err)
	}
	return formats.New(c.Registration.Location, set)
}

// tlsListener wraps ln in TLS when a certificate is configured. Client
// certificates are asked for but not required at the handshake: a partner
// that registered certificates must present one of them (checked per request,
// 403 otherwise), others need not.
func (c config) tlsListener(ln net.Listener) (net.Listener, error) {
	if c.TLSCert == "" && c.TLSKey == "" {
		if c.TLSClientCA != "" {
			return nil, errors.New("MORTGAGED_TLS_CLIENT_CA needs MORTGAGED_TLS_CERT and MORTGAGED_TLS_KEY")
		}
		return ln, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.TLSClientCA != "" {
		pem, err := os.ReadFile(c.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("MORTGAGED_TLS_CLIENT_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("MORTGAGED_TLS_CLIENT_CA holds no PEM certificate")
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return tls.NewListener(ln, cfg), nil
}

// loadLimits reads what bounds the node against the outside (PROMISES A6):
// the memory for request bodies, and where metrics are served.
func (c *config) loadLimits() error {
	mb, err := strconv.Atoi(env("MORTGAGED_BODY_BUDGET_MB", strconv.Itoa(server.DefaultBodyBudget>>20)))
	if err != nil || mb < 1 || mb > 16384 {
		return errors.New("MORTGAGED_BODY_BUDGET_MB must be a whole number of megabytes between 1 and 16384")
	}
	c.BodyBudgetBytes = int64(mb) << 20
	// The Go runtime's soft memory limit: with it the collector works
	// harder as the heap nears it instead of letting it double, which is
	// what keeps a burst of the largest bundles within the node's memory
	// (docs/BENCHMARKS.md#bodies). GOMEMLIMIT, when set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		mb, err := strconv.Atoi(env("MORTGAGED_MEMORY_LIMIT_MB", "450"))
		if err != nil || mb < 0 {
			return errors.New("MORTGAGED_MEMORY_LIMIT_MB must be a whole number of megabytes (0: no limit)")
		}
		c.MemoryLimitBytes = int64(mb) << 20
	}
	switch a := env("MORTGAGED_METRICS_ADDR", "127.0.0.1:9090"); a {
	case "off":
		c.MetricsAddr = ""
	default:
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("MORTGAGED_METRICS_ADDR must be host:port (loopback unless the network is trusted) or off: %w", err)
		}
		c.MetricsAddr = a
	}
	return nil
}
