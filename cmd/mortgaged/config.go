package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"

	"mortgaged/internal/config"
)

// loadConfig reads and validates the whole environment (internal/config)
// before anything starts; -data and -addr on fs override their variables.
func loadConfig(fs *flag.FlagSet, args []string) (config.Config, error) {
	c, err := config.FromEnv()
	if err != nil {
		return c, err
	}
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data folder (embedded PostgreSQL, keys, demo files)")
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address")
	return c, fs.Parse(args)
}

// tlsListener wraps ln in TLS when a certificate is configured. Client
// certificates are asked for but not required at the handshake: a partner
// that registered certificates must present one of them (checked per request,
// 403 otherwise), others need not.
func tlsListener(c config.Config, ln net.Listener) (net.Listener, error) {
	if c.TLSCert == "" && c.TLSKey == "" {
		return ln, nil // config.Load refused a client CA without a certificate
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
