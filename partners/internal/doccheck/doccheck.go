// Package doccheck keeps the format documents true: every stable code the
// source defines is listed, and every relative link leads somewhere.
package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Codes reads every constant of type Code, mortgage.Code or fault.Code from the Go
// files matching the patterns (tests excluded), by value, with where it is
// defined.
func Codes(t testing.TB, patterns ...string) map[string]string {
	t.Helper()
	codes := map[string]string{}
	fset := token.NewFileSet()
	for _, pattern := range patterns {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("no files match %s (%v)", pattern, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					if !isCode(vs.Type) {
						continue
					}
					for i, v := range vs.Values {
						if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							codes[s] = filepath.Base(path) + ": " + vs.Names[i].Name
						}
					}
				}
			}
		}
	}
	return codes
}

func isCode(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name == "Code"
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		return ok && (id.Name == "mortgage" || id.Name == "fault") && x.Sel.Name == "Code"
	}
	return false
}

// Listed checks that doc names every code as `code`.
func Listed(t testing.TB, doc string, codes map[string]string) {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	for code, where := range codes {
		if !strings.Contains(string(b), "`"+code+"`") {
			t.Errorf("%s does not list %s (%s)", filepath.Base(doc), code, where)
		}
	}
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Links checks that every relative link in the documents points at a file
// or directory that exists and, with a fragment, at an anchor in it.
func Links(t testing.TB, docs ...string) {
	t.Helper()
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(b), -1) {
			target, fragment, _ := strings.Cut(m[1], "#")
			if strings.Contains(target, "://") {
				continue
			}
			file := doc
			if target != "" {
				file = filepath.Join(filepath.Dir(doc), target)
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s: link %s: %v", filepath.Base(doc), m[1], err)
					continue
				}
			}
			if fragment == "" {
				continue
			}
			fb, err := os.ReadFile(file)
			if err != nil || !strings.Contains(string(fb), `<a id="`+fragment+`"></a>`) {
				t.Errorf("%s: link %s: no anchor %q in %s", filepath.Base(doc), m[1], fragment, filepath.Base(file))
			}
		}
	}
}
