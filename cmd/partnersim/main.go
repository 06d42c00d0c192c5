// Command partnersim plays a bank's core system against mortgaged: it runs
// the callback endpoint the centre pushes events to, verifies every Standard
// Webhooks signature, deduplicates by event id, can inject failures, can
// submit bundles, and reports what arrived.
//
//	partnersim -secret whsec_… [-listen 127.0.0.1:9090]
//	           [-server http://127.0.0.1:8080 -key-file data/demo/lj-bank.key (-submit DIR | -generate N)]
//	           [-fail N -fail-with 500|503|429|410|timeout|reset] [-down 30s]
//	           [-expect N] [-duration 5m] [-json]
//
// It listens on loopback unless told otherwise, and stops by itself after
// -expect events or -duration, or on Ctrl-C, printing its report.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"mortgaged/sync/pushsig"
)

type options struct {
	listen, path          string
	secret, secretFile    string
	fail                  int
	failWith              string
	down                  time.Duration
	server, key, keyFile  string
	submitDir             string
	generate, concurrency int
	demoUnits             int
	demoSeed              int64
	bank                  string
	expect                int
	duration              time.Duration
	jsonOut               bool
}

func main() {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:9090", "address of the callback endpoint")
	flag.StringVar(&o.path, "path", "/callback", "path of the callback endpoint")
	flag.StringVar(&o.secret, "secret", os.Getenv("PARTNERSIM_SECRET"), "webhook secret as printed by 'mortgaged partner push' (whsec_…); or PARTNERSIM_SECRET")
	flag.StringVar(&o.secretFile, "secret-file", "", "read the webhook secret from this file")
	flag.IntVar(&o.fail, "fail", 0, "answer the first N requests with a failure (see -fail-with)")
	flag.StringVar(&o.failWith, "fail-with", "500", "the injected failure: 500, 503 or 429 (with Retry-After: 1), 410, timeout (never answer), reset (drop the connection)")
	flag.DurationVar(&o.down, "down", 0, "refuse connections for this long before listening")
	flag.StringVar(&o.server, "server", "http://127.0.0.1:8080", "mortgaged base URL, for submitting bundles")
	flag.StringVar(&o.key, "key", os.Getenv("PARTNERSIM_KEY"), "the bank's API key (mk_…); or PARTNERSIM_KEY")
	flag.StringVar(&o.keyFile, "key-file", "", "read the API key from this file (the demo writes data/demo/lj-bank.key)")
	flag.StringVar(&o.submitDir, "submit", "", "submit every *.json bundle in this folder")
	flag.IntVar(&o.generate, "generate", 0, "submit N generated first registrations on clean units of the demo register")
	flag.IntVar(&o.concurrency, "concurrency", 4, "submissions in flight at once")
	flag.IntVar(&o.demoUnits, "demo-units", 5000, "size of the demo register the server loaded (serve --demo)")
	flag.Int64Var(&o.demoSeed, "demo-seed", 1, "seed of the demo register the server loaded")
	flag.StringVar(&o.bank, "bank", "lj-bank", "the demo bank whose bundles -generate writes")
	flag.IntVar(&o.expect, "expect", 0, "stop once this many distinct events have arrived (0: count submitted registrations, if any)")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "stop after this long at most")
	flag.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "partnersim:", err)
		os.Exit(1)
	}
}

func readSecretish(value, file, what string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(value), nil
}

func run(o options) error {
	secretText, err := readSecretish(o.secret, o.secretFile, "secret")
	if err != nil {
		return err
	}
	if secretText == "" {
		return errors.New("no webhook secret: pass -secret whsec_… as printed by 'mortgaged partner push'")
	}
	key, err := pushsig.ParseSecret(secretText)
	if err != nil {
		return err
	}
	switch o.failWith {
	case "500", "503", "429", "410", "timeout", "reset":
	default:
		return fmt.Errorf("-fail-with %q: want 500, 503, 429, 410, timeout or reset", o.failWith)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()

	rc := newReceiver(key, o.fail, o.failWith)
	srv := &http.Server{Handler: rc.handler(o.path), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		IdleTimeout: 2 * time.Minute}
	started := time.Now()
	go func() {
		if o.down > 0 {
			fmt.Fprintf(os.Stderr, "partnersim: refusing connections for %v\n", o.down)
			select {
			case <-time.After(o.down):
			case <-ctx.Done():
				return
			}
		}
		ln, err := net.Listen("tcp", o.listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, "partnersim:", err)
			cancel()
			return
		}
		fmt.Fprintf(os.Stderr, "partnersim: callback endpoint http://%s%s\n", ln.Addr(), o.path)
		_ = srv.Serve(ln)
	}()

	expect := o.expect
	if o.submitDir != "" || o.generate > 0 {
		apiKey, err := readSecretish(o.key, o.keyFile, "key")
		if err != nil {
			return err
		}
		if apiKey == "" {
			return errors.New("submitting needs the bank's API key: -key or -key-file")
		}
		bundles, err := loadBundles(o)
		if err != nil {
			return err
		}
		sub := submit(ctx, o.server, apiKey, bundles, o.concurrency, rc)
		fmt.Fprintf(os.Stderr, "partnersim: submitted %d bundles: %s\n", len(bundles), sub)
		if expect == 0 {
			expect = sub.decided
		}
	}
	rc.waitFor(ctx, expect)
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)

	rep := rc.report(time.Since(started), expect)
	if o.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Print(rep.String())
	if rep.BadSignatures > 0 {
		return fmt.Errorf("%d requests failed signature verification", rep.BadSignatures)
	}
	if expect > 0 && rep.Accepted < expect {
		return fmt.Errorf("%d of %d expected events arrived", rep.Accepted, expect)
	}
	return nil
}
