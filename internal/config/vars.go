package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mortgaged/mortgage"
	"mortgaged/sync/push"
)

// Var is one environment variable: its name, its default, what it means
// (Markdown, for README.md) and how its value goes into a Config.
type Var struct {
	Name    string
	Flag    string // the command-line flag that overrides it, if any
	Default string // the value used when it is unset or empty
	// Shown is the README's default column when Default alone would
	// mislead (an empty default that means something).
	Shown   string
	Meaning string
	set     func(c *Config, v string) error
}

// Retired are variables mortgaged no longer reads, with why. Load refuses
// one set to anything but the value mortgaged now always uses, so an
// installation that relied on another value learns at start, not from a
// bill.
var Retired = map[string]struct{ Keeps, Why string }{
	"MORTGAGED_FEE_PAYER": {"mortgagee", "the fee for a mortgage registration is paid by the party registered as mortgagee (发改价格规〔2016〕2559号); the option to bill the mortgagor is removed: unset MORTGAGED_FEE_PAYER"},
}

// Vars is every variable mortgaged reads, in the README's order.
var Vars = []Var{
	{Name: "DATABASE_URL", Shown: "*(empty: embedded cluster)*",
		Meaning: "PostgreSQL URL, e.g. `postgres://user:pass@db/mortgaged?sslmode=require`",
		set:     func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
	{Name: "MORTGAGED_DATA", Flag: "-data", Default: "data",
		Meaning: "data folder: embedded cluster, demo files",
		set:     func(c *Config, v string) error { c.DataDir = v; return nil }},
	{Name: "MORTGAGED_ADDR", Flag: "-addr", Default: "127.0.0.1:8080",
		Meaning: "listen address",
		set:     func(c *Config, v string) error { c.Addr = v; return nil }},
	{Name: "MORTGAGED_PROVINCE", Default: "黑",
		Meaning: "province short name in certificate numbers",
		set:     func(c *Config, v string) error { c.Registration.Province = v; return nil }},
	{Name: "MORTGAGED_CITY", Default: "齐齐哈尔市",
		Meaning: "city or county name in certificate numbers",
		set:     func(c *Config, v string) error { c.Registration.City = v; return nil }},
	{Name: "MORTGAGED_AUTHORITY", Default: "齐齐哈尔市不动产登记中心",
		Meaning: "issuing authority",
		set:     func(c *Config, v string) error { c.Registration.Authority = v; return nil }},
	{Name: "MORTGAGED_RECORDING_OFFICER", Default: "自动登簿",
		Meaning: "recording officer (登簿人) named on automatic registrations",
		set:     func(c *Config, v string) error { c.Registration.RecordingOfficer = v; return nil }},
	{Name: "MORTGAGED_OBJECTION_POLICY", Default: string(mortgage.ObjectionUndertaking),
		Meaning: "an open objection (异议登记): `refuse`; `undertaking` (register if the applicant attaches a risk undertaking, material kind `objection_undertaking`); `allow`",
		set: func(c *Config, v string) error {
			switch p := mortgage.ObjectionPolicy(v); p {
			case mortgage.ObjectionRefuse, mortgage.ObjectionUndertaking, mortgage.ObjectionAllow:
				c.Registration.ObjectionPolicy = p
				return nil
			}
			return errors.New("MORTGAGED_OBJECTION_POLICY must be refuse, undertaking or allow")
		}},
	{Name: "MORTGAGED_TIMEZONE", Default: "Asia/Shanghai",
		Meaning: "business time zone",
		set: func(c *Config, v string) error {
			loc, err := time.LoadLocation(v)
			if err != nil {
				return fmt.Errorf("MORTGAGED_TIMEZONE: %w", err)
			}
			c.Registration.Location = loc
			return nil
		}},
	{Name: "MORTGAGED_SATURDAY_SERVICE", Default: onOffString(mortgage.DefaultCalendar(time.UTC).SaturdayService),
		Meaning: "Saturdays that are not holidays are service days (周六全天办, local practice): bundles received on them are decided that day; `off`: the next working day. \"N 个工作日\" never counts Saturdays either way",
		set: func(c *Config, v string) error {
			var off bool
			if err := onOff("MORTGAGED_SATURDAY_SERVICE", func(*Config) *bool { return &off })(c, v); err != nil {
				return err
			}
			c.Registration.Calendar.SaturdayService = !off
			return nil
		}},
	{Name: "MORTGAGED_CUTOFF", Default: clockString(mortgage.DefaultCalendar(time.UTC).CutOff),
		Meaning: "time of day (HH:MM, business time) from which a bundle counts as received the next service day (local practice); not after `MORTGAGED_CLOSE`",
		set:     clockVar("MORTGAGED_CUTOFF", func(c *Config) *time.Duration { return &c.Registration.Calendar.CutOff })},
	{Name: "MORTGAGED_CLOSE", Default: clockString(mortgage.DefaultCalendar(time.UTC).Close),
		Meaning: "time of day (HH:MM, business time) a service day ends: same-day bundles are due then (local practice)",
		set:     clockVar("MORTGAGED_CLOSE", func(c *Config) *time.Duration { return &c.Registration.Calendar.Close })},
	{Name: "MORTGAGED_MAX_BODY_MB", Default: "32",
		Meaning: "largest request body accepted (413 above it)",
		set:     megabytes("MORTGAGED_MAX_BODY_MB", 1, 1024, func(c *Config) *int64 { return &c.MaxBodyBytes })},
	{Name: "MORTGAGED_BODY_BUDGET_MB", Default: "64",
		Meaning: "request bodies held in memory at once across all partners, per node; past it a request gets `503 server_busy` with `Retry-After` before its body is read ([docs/BENCHMARKS.md](docs/BENCHMARKS.md#bodies))",
		set:     megabytes("MORTGAGED_BODY_BUDGET_MB", 1, 16384, func(c *Config) *int64 { return &c.BodyBudgetBytes })},
	// The Go runtime's soft memory limit: with it the collector works harder
	// as the heap nears it instead of letting it double, which is what keeps
	// a burst of the largest bundles within the node's memory.
	{Name: "MORTGAGED_MEMORY_LIMIT_MB", Default: "450",
		Meaning: "the Go runtime's soft memory limit for `serve` (the collector works harder near it), which keeps a burst of the largest bundles within the node's memory ([docs/BENCHMARKS.md](docs/BENCHMARKS.md#bodies)); `GOMEMLIMIT`, when set, wins; `0`: no limit",
		set:     megabytes("MORTGAGED_MEMORY_LIMIT_MB", 0, 1<<30, func(c *Config) *int64 { return &c.MemoryLimitBytes })},
	{Name: "MORTGAGED_METRICS_ADDR", Default: "127.0.0.1:9090",
		Meaning: "where `GET /metrics` (Prometheus) is served, apart from the public address; `off`: nowhere. If the address is taken the node serves partners anyway and logs `metrics not served`",
		set: func(c *Config, v string) error {
			if v == "off" {
				c.MetricsAddr = ""
				return nil
			}
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("MORTGAGED_METRICS_ADDR must be host:port (loopback unless the network is trusted) or off: %w", err)
			}
			c.MetricsAddr = v
			return nil
		}},
	{Name: "MORTGAGED_STATEMENT_TIMEOUT", Default: "30s",
		Meaning: "PostgreSQL `statement_timeout` of every pooled connection: a runaway statement is cancelled instead of holding locks and a connection (`0` turns it off; migrations and `register import` run without it)",
		set:     duration("MORTGAGED_STATEMENT_TIMEOUT", "30s", 0, 0, func(c *Config) *time.Duration { return &c.DBTimeouts.Statement })},
	{Name: "MORTGAGED_IDLE_TX_TIMEOUT", Default: "60s",
		Meaning: "PostgreSQL `idle_in_transaction_session_timeout`: a transaction left open by a stalled request is ended, its locks released (`0` turns it off)",
		set:     duration("MORTGAGED_IDLE_TX_TIMEOUT", "60s", 0, 0, func(c *Config) *time.Duration { return &c.DBTimeouts.IdleInTransaction })},
	{Name: "MORTGAGED_ENCUMBRANCE_QUOTA", Default: strconv.Itoa(mortgage.DefaultEncumbranceQuota),
		Meaning: "encumbrance queries a partner may make a business day, found or not (429 `quota_exceeded` past it); a partner's own: `partner limits ID -encumbrance-quota N` (`-1`: back to this default)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return errors.New("MORTGAGED_ENCUMBRANCE_QUOTA must be a whole number of encumbrance queries a partner may make a day, at least 1")
			}
			c.Registration.EncumbranceQuota = n
			return nil
		}},
	{Name: "MORTGAGED_PROMISABLE", Default: strings.Join(mortgage.DefaultPromisable, ","),
		Meaning: "material kinds an applicant may promise for later (容缺受理, accepted first, registered only once what the registration needs has arrived), comma-separated; the desk rule `promised_document` chooses among them. The default holds what the centre's plan names and the centre gets by data sharing; the loan and mortgage contracts prove the mortgage itself and are not promisable unless a local rule says so; `none`: no promises ([docs/DECISIONS.md](docs/DECISIONS.md))",
		set: func(c *Config, v string) error {
			kinds := []string{}
			if v != "none" {
				for k := range strings.SplitSeq(v, ",") {
					k = strings.TrimSpace(k)
					if _, ok := mortgage.MaterialKinds[k]; !ok {
						return fmt.Errorf("MORTGAGED_PROMISABLE: %q is not a material kind (e.g. business_licence,identity_document; none for no promises)", k)
					}
					kinds = append(kinds, k)
				}
			}
			c.Registration.Promisable = kinds
			return nil
		}},
	{Name: "MORTGAGED_STRICT_RULES", Default: "none",
		Meaning: "demands beyond the law this centre makes, comma-separated, all off by default: `coowner_notice` (按份共有 owners of ≥ 2/3 must prove the others were told; 民法典第三百零一条 asks only for the 2/3), `debt_period_ended` (refuse a mortgage whose debt period has ended), `separate_mortgage_contract` (a general mortgage needs a mortgage contract of its own; 实施细则第六十六条 accepts the clause in the loan contract), `debt_extinguished_proof` (a cancellation needs proof the debt is extinguished although the mortgagee gives up its right by applying); `none`: none ([docs/DECISIONS.md](docs/DECISIONS.md))",
		set: func(c *Config, v string) error {
			s, err := mortgage.ParseStrictRules(v)
			if err != nil {
				return fmt.Errorf("MORTGAGED_STRICT_RULES: %w", err)
			}
			c.Registration.Strict = s
			return nil
		}},
	{Name: "MORTGAGED_LOG_LEVEL", Default: "info",
		Meaning: "`debug`, `info`, `warn`, `error`; logs are JSON on stderr, ID numbers masked",
		set: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("MORTGAGED_LOG_LEVEL: %w", err)
			}
			return nil
		}},
	{Name: "MORTGAGED_PUSH", Default: "on",
		Meaning: "`off`: this node serves the API but pushes nothing (other nodes push)",
		set:     onOff("MORTGAGED_PUSH", func(c *Config) *bool { return &c.Push.Off })},
	{Name: "MORTGAGED_PUSH_TIMEOUT", Default: "20s",
		Meaning: "how long a partner's callback has to answer one POST",
		set:     duration("MORTGAGED_PUSH_TIMEOUT", "20s", 1, 0, func(c *Config) *time.Duration { return &c.Push.Config.Timeout })},
	{Name: "MORTGAGED_PUSH_LEASE", Default: "60s",
		Meaning: "how long a node's claim on an event lasts; a dead node's claims return to the queue after it (at least the timeout + 5 s)",
		set:     duration("MORTGAGED_PUSH_LEASE", "60s", 1, 0, func(c *Config) *time.Duration { return &c.Push.Config.Lease })},
	{Name: "MORTGAGED_PUSH_RETRY", Default: formatRetry(push.DefaultRetry),
		Meaning: "delay before each attempt (±20 % jitter); after the last failed attempt the event is a dead letter",
		set: func(c *Config, v string) error {
			r, err := push.ParseRetry(v)
			if err != nil {
				return fmt.Errorf("MORTGAGED_PUSH_RETRY: %w", err)
			}
			c.Push.Config.Retry = r
			return nil
		}},
	{Name: "MORTGAGED_PUSH_RECONCILE", Default: "30s",
		Meaning: "how soon a running node applies changed push settings",
		set:     duration("MORTGAGED_PUSH_RECONCILE", "30s", 1, 0, func(c *Config) *time.Duration { return &c.Push.Reconcile })},
	{Name: "MORTGAGED_BATCH", Default: "on",
		Meaning: "`off`: this node accepts batch uploads but decides no records (other nodes do)",
		set:     onOff("MORTGAGED_BATCH", func(c *Config) *bool { return &c.Batch.Off })},
	{Name: "MORTGAGED_BATCH_MAX_MB", Default: "512",
		Meaning: "largest provident-fund batch file accepted (413 above it) ([docs/batches.md](docs/batches.md))",
		set:     megabytes("MORTGAGED_BATCH_MAX_MB", 1, 4096, func(c *Config) *int64 { return &c.Batch.MaxBytes })},
	{Name: "MORTGAGED_BATCH_PARALLEL", Default: "8",
		Meaning: "records of a batch this node decides at once",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 64 {
				return errors.New("MORTGAGED_BATCH_PARALLEL must be a whole number between 1 and 64")
			}
			c.Batch.Parallel = n
			return nil
		}},
	{Name: "MORTGAGED_BATCH_LEASE", Default: "30s",
		Meaning: "how long a node's claim on a batch lasts, renewed every third of it; a dead node's batch is taken over after it (at least `3s`)",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return errors.New("MORTGAGED_BATCH_LEASE must be a duration such as 30s")
			}
			if d < 3*time.Second {
				return errors.New("MORTGAGED_BATCH_LEASE must be at least 3s: the claim is renewed every third of it")
			}
			c.Batch.Lease = d
			return nil
		}},
	{Name: "MORTGAGED_BATCH_POLL", Default: "1s",
		Meaning: "how often an idle node looks for a batch to process",
		set:     duration("MORTGAGED_BATCH_POLL", "1s", 1, 0, func(c *Config) *time.Duration { return &c.Batch.Poll })},
	{Name: "MORTGAGED_BATCH_RETRY", Default: "30s",
		Meaning: "how long a batch waits before another pass when a pass could not decide every record",
		set:     duration("MORTGAGED_BATCH_RETRY", "30s", 1, 0, func(c *Config) *time.Duration { return &c.Batch.Retry })},
	{Name: "MORTGAGED_CONSOLE_SECURE_COOKIES", Shown: "*(`true` when `MORTGAGED_PUBLIC_URL` is https)*",
		Meaning: "`true`: the staff console's cookies are `Secure` even on plain HTTP requests (a node behind a TLS-terminating proxy); requests over TLS always get them",
		set: func(c *Config, v string) error {
			if v == "" {
				return nil // decided from MORTGAGED_PUBLIC_URL in check
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("MORTGAGED_CONSOLE_SECURE_COOKIES must be true or false")
			}
			c.Console.SecureCookies = b
			return nil
		}},
	{Name: "MORTGAGED_CONSOLE_IDLE_TIMEOUT", Default: "30m",
		Meaning: "a console session nobody used for this long ends (between `1m` and `168h`)",
		set:     duration("MORTGAGED_CONSOLE_IDLE_TIMEOUT", "30m", time.Minute, 7*24*time.Hour, func(c *Config) *time.Duration { return &c.Console.IdleTimeout })},
	{Name: "MORTGAGED_CONSOLE_MAX_LIFETIME", Default: "12h",
		Meaning: "any console session ends this long after sign-in (between `1m` and `168h`)",
		set:     duration("MORTGAGED_CONSOLE_MAX_LIFETIME", "12h", time.Minute, 7*24*time.Hour, func(c *Config) *time.Duration { return &c.Console.MaxLifetime })},
	{Name: "MORTGAGED_RETENTION", Default: "on",
		Meaning: "`off`: this node never runs the retention job (one node at a time runs it in any case) ([docs/retention.md](docs/retention.md))",
		set:     onOff("MORTGAGED_RETENTION", func(c *Config) *bool { return &c.Retention.Off })},
	{Name: "MORTGAGED_RETENTION_BATCH_DAYS", Default: "90",
		Meaning: "days an uploaded batch file (its stored chunks) is kept after the batch finished; its records, bundles and certificates stay for ever",
		set:     days("MORTGAGED_RETENTION_BATCH_DAYS", func(c *Config) *time.Duration { return &c.Retention.BatchChunks })},
	{Name: "MORTGAGED_RETENTION_EVENTS_DAYS", Default: "90",
		Meaning: "days a delivered (pushed and answered, or acknowledged) event is kept; pending events and dead letters are never removed",
		set:     days("MORTGAGED_RETENTION_EVENTS_DAYS", func(c *Config) *time.Duration { return &c.Retention.DeliveredEvents })},
	{Name: "MORTGAGED_RETENTION_DELIVERIES_DAYS", Default: "90",
		Meaning: "days the record of a delivery attempt is kept; a dead letter's attempts stay with it",
		set:     days("MORTGAGED_RETENTION_DELIVERIES_DAYS", func(c *Config) *time.Duration { return &c.Retention.Deliveries })},
	{Name: "MORTGAGED_RETENTION_INTERVAL", Default: "1h",
		Meaning: "how often the retention job runs",
		set:     duration("MORTGAGED_RETENTION_INTERVAL", "1h", time.Minute, 0, func(c *Config) *time.Duration { return &c.Retention.Interval })},
	{Name: "MORTGAGED_TLS_CERT", Shown: "*(empty: plain HTTP)*",
		Meaning: "PEM file of the server's certificate: serve HTTPS directly (otherwise terminate TLS in front of the server); needs `MORTGAGED_TLS_KEY`",
		set:     func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{Name: "MORTGAGED_TLS_KEY", Shown: "*(empty: plain HTTP)*",
		Meaning: "PEM file of the server certificate's private key",
		set:     func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{Name: "MORTGAGED_TLS_CLIENT_CA", Shown: "*(empty)*",
		Meaning: "PEM CA bundle for partners' client certificates (mutual TLS). A partner whose certificates are registered (`partner limits ID -client-certs SHA256,…`) must present one of them, or gets 403",
		set:     func(c *Config, v string) error { c.TLSClientCA = v; return nil }},
	{Name: "MORTGAGED_MASTER_KEY", Shown: "*(empty: `DATA/master.key`)*",
		Meaning: "32 random bytes in base64 (`head -c 32 /dev/urandom \\| base64`) that seal secrets at rest: the certificate-signing keys, partners' webhook secrets; partners' request-signing secrets are derived from it (so rotating it means re-issuing partner keys). Without it the key is read from `master.key` in the data folder, created (mode 0600) on first start. **Every node sharing a database must have the same master key**; a node with another key refuses to start. Back it up: sealed secrets cannot be opened without it",
		set:     func(c *Config, v string) error { c.MasterKey = v; return nil }},
	{Name: "MORTGAGED_PUBLIC_URL", Default: "http://127.0.0.1:8080",
		Meaning: "where people reach the server: the printed certificate's QR code leads to `MORTGAGED_PUBLIC_URL/verify/page?…`; `mortgaged verify` fetches keys from here by default",
		set: func(c *Config, v string) error {
			v = strings.TrimRight(v, "/")
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("MORTGAGED_PUBLIC_URL must be an http or https URL, e.g. https://bdc.example.gov.cn")
			}
			c.PublicURL = v
			return nil
		}},
	{Name: "MORTGAGED_DIALECT_DIR", Shown: "*(empty: the shipped dialects)*",
		Meaning: "folder of bank dialect mapping files (`*.json`) replacing the shipped ones ([docs/formats/bank-dialects.md](docs/formats/bank-dialects.md)); a broken file stops the server at start",
		set:     func(c *Config, v string) error { c.DialectDir = v; return nil }},
	{Name: "MORTGAGED_URL", Default: "http://127.0.0.1:8080",
		Meaning: "the server `mortgaged call` sends its signed requests to (`-url` overrides it)",
		set:     func(c *Config, v string) error { c.ServerURL = strings.TrimRight(v, "/"); return nil }},
}

// megabytes parses a whole number of megabytes in [lo, hi] into bytes.
func megabytes(name string, lo, hi int, into func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		mb, err := strconv.Atoi(v)
		if err != nil || mb < lo || mb > hi {
			if lo == 0 {
				return fmt.Errorf("%s must be a whole number of megabytes (0: no limit)", name)
			}
			return fmt.Errorf("%s must be a whole number of megabytes between %d and %d", name, lo, hi)
		}
		*into(c) = int64(mb) << 20
		return nil
	}
}

// duration parses a Go duration of at least lo (0: 0 turns it off) and at
// most hi (0: no bound).
func duration(name, example string, lo, hi time.Duration, into func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case hi > 0 && (err != nil || d < lo || d > hi):
			return fmt.Errorf("%s must be a duration between %v and %v, e.g. %s", name, fmtDuration(lo), fmtDuration(hi), example)
		case err != nil || d < lo || d < 0:
			if lo == 0 {
				return fmt.Errorf("%s must be a duration such as %s (0 turns it off)", name, example)
			}
			return fmt.Errorf("%s must be a duration such as %s", name, example)
		}
		*into(c) = d
		return nil
	}
}

// days parses a whole number of days, 1 to 36500, into a duration.
func days(name string, into func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 36500 {
			return fmt.Errorf("%s must be a whole number of days between 1 and 36500", name)
		}
		*into(c) = time.Duration(n) * 24 * time.Hour
		return nil
	}
}

// onOffString is the on|off spelling of a switch.
func onOffString(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// clockString writes a time of day as HH:MM.
func clockString(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// clockVar parses a time of day HH:MM (00:01 to 24:00) into a duration
// since midnight.
func clockVar(name string, into func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		h, m, ok := strings.Cut(v, ":")
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		d := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
		if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || mm < 0 || mm > 59 || d <= 0 || d > 24*time.Hour {
			return fmt.Errorf("%s must be a time of day HH:MM between 00:01 and 24:00, not %q", name, v)
		}
		*into(c) = d
		return nil
	}
}

// onOff parses on|off into an "off" switch.
func onOff(name string, off func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		switch v {
		case "on":
			*off(c) = false
		case "off":
			*off(c) = true
		default:
			return fmt.Errorf("%s must be on or off, not %q", name, v)
		}
		return nil
	}
}

// fmtDuration writes d as people do: 5m, 2h, 168h rather than 5m0s, 2h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	s, _ = strings.CutSuffix(s, "m0s")
	if s != d.String() {
		s += "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

func formatRetry(r []time.Duration) string {
	s := make([]string, len(r))
	for i, d := range r {
		s[i] = fmtDuration(d)
	}
	return strings.Join(s, ",")
}
