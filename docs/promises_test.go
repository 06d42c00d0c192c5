package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPromisesNameRealTests keeps docs/PROMISES.md true: every test it
// names as a promise's proof exists in the package it names, so renaming
// or deleting a proof fails here instead of leaving the page stale.
func TestPromisesNameRealTests(t *testing.T) {
	page, err := os.ReadFile("PROMISES.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| ([SADR][0-9]+) \|.*\| (.*) \|$`)
	cite := regexp.MustCompile("`([a-z/]+)` ((?:`(?:Test|Fuzz)[A-Za-z0-9]+`(?:, )?)+)")
	name := regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9]+)`")
	rows := row.FindAllSubmatch(page, -1)
	if len(rows) < 20 {
		t.Fatalf("found %d promise rows in PROMISES.md; the table format changed?", len(rows))
	}
	checked := 0
	for _, r := range rows {
		for _, c := range cite.FindAllSubmatch(r[2], -1) {
			pkg := filepath.Join("..", string(c[1]))
			for _, n := range name.FindAllSubmatch(c[2], -1) {
				if !declares(t, pkg, string(n[1])) {
					t.Errorf("%s cites %s in %s, which has no such test", r[1], n[1], c[1])
				}
				checked++
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d cited tests found; the citation format changed?", checked)
	}
}

// declares reports whether a _test.go file in dir declares func name.
func declares(t *testing.T, dir, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "func "+name+"(") {
			return true
		}
	}
	return false
}
