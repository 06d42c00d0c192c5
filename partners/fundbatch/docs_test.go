package fundbatch_test

import (
	"path/filepath"
	"testing"

	"mortgaged/partners/internal/doccheck"
)

// TestDocs: the batch file reference lists this package's codes and its
// links lead somewhere.
func TestDocs(t *testing.T) {
	doc := filepath.Join(formatsDir, "fund-batch-v1.md")
	doccheck.Listed(t, doc, doccheck.Codes(t, "*.go"))
	doccheck.Links(t, doc)
}
