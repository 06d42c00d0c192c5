package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestArchitectureNamesEveryPackage keeps docs/ARCHITECTURE.md's package
// table true: every package in the module is in it, and everything in it
// is a package, so a new, moved or removed package fails here until the
// page says so.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	page, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	// A table row's first cell: `pkg`, or `dir/a`, `b` for siblings.
	row := regexp.MustCompile("(?m)^\\| (`[a-z/]+`(?:, `[a-z/]+`)*) \\|")
	var documented []string
	for _, m := range row.FindAllStringSubmatch(string(page), -1) {
		cells := strings.Split(m[1], ", ")
		first := strings.Trim(cells[0], "`")
		documented = append(documented, first)
		for _, c := range cells[1:] {
			c = strings.Trim(c, "`")
			if !strings.Contains(c, "/") { // a sibling of the first
				c = filepath.Join(filepath.Dir(first), c)
			}
			documented = append(documented, c)
		}
	}
	var packages []string
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir, _ := filepath.Rel("..", filepath.Dir(path))
		if !slices.Contains(packages, dir) {
			packages = append(packages, dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Packages the page covers as a group: internal test helpers of the
	// format packages, the docs package itself, the sync umbrella, the
	// README generator.
	covered := []string{".", "docs", "sync", "partners/internal/doccheck", "partners/internal/xsdcheck", "internal/config/readme"}
	for _, p := range packages {
		if !slices.Contains(documented, p) && !slices.Contains(covered, p) {
			t.Errorf("package %s is not in ARCHITECTURE.md's package table", p)
		}
	}
	for _, d := range documented {
		if !slices.Contains(packages, d) {
			t.Errorf("ARCHITECTURE.md names %s, which is not a package", d)
		}
	}
}
