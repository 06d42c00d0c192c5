// Command readme rewrites README.md's configuration table from config.Vars:
//
//	go generate ./internal/config
package main

import (
	"flag"
	"fmt"
	"os"

	"mortgaged/internal/config"
)

func main() {
	path := flag.String("w", "README.md", "the README to rewrite")
	flag.Parse()
	if err := rewrite(*path); err != nil {
		fmt.Fprintln(os.Stderr, "readme:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := config.ReplaceTable(b)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
