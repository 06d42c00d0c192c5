package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"mortgaged/internal/app"
	"mortgaged/internal/certkeys"
	"mortgaged/internal/config"
	"mortgaged/mortgage"
)

// errInvalid makes `mortgaged verify` exit non-zero after it has said why.
var errInvalid = errors.New("certificate signature is invalid")

// verifyCmd checks a certificate envelope offline against the published keys:
//
//	mortgaged verify [-keys FILE_OR_URL] FILE
//
// FILE is an envelope (GET /v1/certificates/{number}?envelope=1), the
// "certificate" object of an event, or a whole event; "-" reads stdin.
func verifyCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	keysFrom := fs.String("keys", "", "the published key list: a file, or an http(s) URL (default: MORTGAGED_PUBLIC_URL"+certkeys.KeySetPath+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("verify: want one FILE (a certificate envelope; - for stdin)")
	}
	if *keysFrom == "" {
		c, err := config.FromEnv()
		if err != nil {
			return err
		}
		*keysFrom = c.PublicURL + certkeys.KeySetPath
	}
	raw, err := readInput(fs.Arg(0))
	if err != nil {
		return err
	}
	envelope, err := parseEnvelope(raw)
	if err != nil {
		return fmt.Errorf("verify %s: %w", fs.Arg(0), err)
	}
	keySet, err := fetch(ctx, *keysFrom)
	if err != nil {
		return fmt.Errorf("verify: read keys: %w", err)
	}
	keys, err := certkeys.ParseKeySet(keySet)
	if err != nil {
		return fmt.Errorf("verify: %s: %w", *keysFrom, err)
	}
	doc, _, err := envelope.Open()
	if err == nil {
		err = envelope.Verify(keys)
	}
	if err != nil {
		reason := "签名与文件内容不符，文件可能被改动"
		switch {
		case errors.Is(err, certkeys.ErrUnknownKey):
			reason = "签名密钥 " + envelope.KeyID + " 不在公布的公钥列表中"
		case !errors.Is(err, certkeys.ErrBadSignature):
			reason = "文件无法读取"
		}
		fmt.Fprintf(stdout, "无效：%s。\ninvalid: %v\n", reason, err)
		return errInvalid
	}
	number := documentNumber(doc)
	fmt.Fprintf(stdout, "有效：证明 %s 的电子签名验证通过（密钥 %s）。\nvalid: the signature of certificate %s verifies with key %s.\n",
		number, envelope.KeyID, number, envelope.KeyID)
	fmt.Fprintln(stdout, "签名有效只说明文件由登记机构出具且未被改动；抵押权是否已注销请在线核验（/verify）。")
	fmt.Fprintln(stdout, "A valid signature proves origin and integrity; ask the online check (/verify) whether the mortgage was cancelled since.")
	return nil
}

// parseEnvelope accepts an envelope, an event's certificate object, or a
// whole event that carries one.
func parseEnvelope(raw []byte) (certkeys.Envelope, error) {
	var probe struct {
		certkeys.Envelope
		Certificate *certkeys.Envelope `json:"certificate"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return certkeys.Envelope{}, fmt.Errorf("not a certificate envelope (JSON with keyId, document, signature): %w", err)
	}
	if probe.Certificate != nil && probe.Document == "" {
		return *probe.Certificate, nil
	}
	return probe.Envelope, nil
}

// documentNumber reads the certificate number from a verified document,
// JSON or XML, for the report.
func documentNumber(doc []byte) string {
	if c, err := mortgage.ParseCertificate(doc); err == nil {
		return c.Number
	}
	var x struct {
		Number string `xml:"number"`
	}
	if err := xml.Unmarshal(doc, &x); err == nil && x.Number != "" {
		return x.Number
	}
	return "?"
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 16<<20))
	}
	return os.ReadFile(name)
}

// fetch reads a file, or GETs an http(s) URL.
func fetch(ctx context.Context, from string) ([]byte, error) {
	if !strings.HasPrefix(from, "http://") && !strings.HasPrefix(from, "https://") {
		return os.ReadFile(from)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, from, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", from, res.Status)
	}
	return io.ReadAll(io.LimitReader(res.Body, 1<<20))
}

// keysCmd lists and rotates the certificate-signing keys.
func keysCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		return errors.New("keys: want list or rotate")
	}
	c, d, err := adminDB(ctx, flag.NewFlagSet("keys "+args[0], flag.ExitOnError), args[1:])
	if err != nil {
		return err
	}
	defer d.Close()
	if args[0] == "rotate" {
		sealer, err := app.OpenSealer(c)
		if err != nil {
			return err
		}
		// Make sure there is a key to retire, and that this master key opens it.
		if _, err := certkeys.Open(ctx, d.DB, sealer); err != nil {
			return err
		}
		k, err := certkeys.Rotate(ctx, d.DB, sealer)
		if err != nil {
			return err
		}
		fmt.Printf("new signing key %s is active; running servers switch to it within %s.\n"+
			"Retired keys stay published at %s, so certificates they signed keep verifying.\n",
			k.ID, app.KeyRefreshInterval, certkeys.KeySetPath)
		return nil
	}
	keys, err := certkeys.PublicKeys(ctx, d.DB)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tALGORITHM\tSTATE\tCREATED\tRETIRED\tPUBLIC KEY")
	for _, k := range keys {
		state, retired := "active", "-"
		if k.RetiredAt != nil {
			state, retired = "retired", k.RetiredAt.In(c.Registration.Location).Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, state,
			k.CreatedAt.In(c.Registration.Location).Format(time.RFC3339), retired, base64.StdEncoding.EncodeToString(k.Key))
	}
	return tw.Flush()
}
