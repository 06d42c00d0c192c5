package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"mortgaged/internal/config"
	"mortgaged/partners/client"
)

// call sends one signed request as a partner would: the demo's
// ready-to-paste commands use it, since curl cannot sign.
//
//	mortgaged call -key-file data/demo/lj-bank.key POST /v1/bundles @bundle.json
func call(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("call", flag.ExitOnError)
	keyFile := fs.String("key-file", "", "file holding the partner's signing key (mk_…)")
	c, err := config.FromEnv()
	if err != nil {
		return err
	}
	base := fs.String("url", c.ServerURL, "server base URL (MORTGAGED_URL)")
	contentType := fs.String("type", "", "Content-Type of the body (default: application/xml for .xml files, else application/json)")
	accept := fs.String("accept", "", "Accept header")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" || fs.NArg() < 2 || fs.NArg() > 3 {
		return errors.New("call: usage: mortgaged call -key-file FILE [-url URL] METHOD PATH [@BODY_FILE]")
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	cl, err := client.New(strings.TrimRight(*base, "/"), strings.TrimSpace(string(key)))
	if err != nil {
		return err
	}
	method, target := strings.ToUpper(fs.Arg(0)), fs.Arg(1)
	var body []byte
	if fs.NArg() == 3 {
		name, ok := strings.CutPrefix(fs.Arg(2), "@")
		if !ok {
			return errors.New("call: the body is given as @FILE")
		}
		if body, err = os.ReadFile(name); err != nil {
			return err
		}
		if *contentType == "" {
			*contentType = "application/json"
			if strings.HasSuffix(name, ".xml") {
				*contentType = "application/xml"
			}
		}
	}
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	cl.Headers = map[string]string{}
	if *accept != "" {
		cl.Headers["Accept"] = *accept
	}
	res, err := cl.Do(ctx, method, u.EscapedPath(), u.Query(), *contentType, body)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	fmt.Fprintf(os.Stderr, "%s %s → %s\n", method, target, res.Status)
	_, err = io.Copy(os.Stdout, res.Body)
	fmt.Println()
	return err
}
