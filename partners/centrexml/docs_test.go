package centrexml_test

import (
	"path/filepath"
	"testing"

	"mortgaged/partners/internal/doccheck"
)

// TestDocs: the XML v1 reference lists every XML code (xmlsafe's and this
// package's) and its links lead somewhere.
func TestDocs(t *testing.T) {
	doc := filepath.Join(formatsDir, "centre-xml-v1.md")
	doccheck.Listed(t, doc, doccheck.Codes(t, "../xmlsafe/*.go", "*.go"))
	doccheck.Links(t, doc)
}
