package main

import (
	"go/build"
	"os"
	"strings"
	"testing"
)

// TestNoTestHooksInProductionBuild: the files of a build without the
// crashtest tag never read the crash tests' hook variable, so a production
// server cannot be made to pause inside its transactions.
func TestNoTestHooksInProductionBuild(t *testing.T) {
	t.Parallel()
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	hooked := false
	for _, f := range pkg.GoFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "MORTGAGED_TEST_") {
			t.Errorf("%s is in the production build and reads a MORTGAGED_TEST_ hook", f)
		}
	}
	for _, f := range pkg.IgnoredGoFiles {
		b, _ := os.ReadFile(f)
		hooked = hooked || strings.Contains(string(b), "MORTGAGED_TEST_PAUSE_BEFORE_COMMIT")
	}
	if !hooked {
		t.Errorf("no file outside the production build arms MORTGAGED_TEST_PAUSE_BEFORE_COMMIT; the crash tests need it")
	}
}
