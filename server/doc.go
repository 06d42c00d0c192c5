// Package server is the HTTP face of mortgaged: the partner API (v1) on its
// own subrouter with partner authentication, problem+json errors, health and
// readiness probes, and Prometheus metrics; and, for anyone, the published
// certificate-signing keys, the online certificate check (/verify) and the
// printable certificate (verify.go, templates/).
package server
