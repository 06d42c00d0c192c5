// Package dialects holds the bank XML dialect mapping files shipped with
// the server (one JSON file per dialect, described in
// docs/formats/bank-dialects.md). The server loads them with xmlmap.Load
// from Files, or from a directory given in its configuration, so a bank
// with a new dialect is onboarded by adding a file, not by changing code.
package dialects

import "embed"

// Files are the shipped mapping files, *.json at the top level.
//
//go:embed *.json
var Files embed.FS
