package xmlmap_test

import (
	"path/filepath"
	"testing"

	"mortgaged/partners/internal/doccheck"
)

// TestDocs: the dialect reference lists this package's codes and its links
// lead somewhere.
func TestDocs(t *testing.T) {
	doc := filepath.Join(formatsDir, "bank-dialects.md")
	doccheck.Listed(t, doc, doccheck.Codes(t, "*.go"))
	doccheck.Links(t, doc)
}
