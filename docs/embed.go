// Package docs embeds what the server publishes of the partner
// documentation: the OpenAPI 3.1 document and the files of docs/formats
// (JSON Schemas, XSDs, format references). docs/contracts.md says which
// contract covers what and how tests and CI keep each true.
package docs

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed openapi.json
var openapiSource []byte

//go:embed formats
var formatFiles embed.FS

// Formats is the folder docs/formats, its files at the root.
var Formats fs.FS

func init() {
	f, err := fs.Sub(formatFiles, "formats")
	if err != nil {
		panic(err)
	}
	Formats = f
}

// OpenAPISource is docs/openapi.json as written: its components refer to
// the JSON Schemas in docs/formats by file.
func OpenAPISource() []byte { return bytes.Clone(openapiSource) }

var served struct {
	once sync.Once
	doc  []byte
	err  error
}

// OpenAPI is the document the server serves at /openapi.json: the source
// with every JSON Schema it refers to by file inlined under
// components/schemas, so that it stands alone wherever it is fetched from.
func OpenAPI() ([]byte, error) {
	served.once.Do(func() { served.doc, served.err = Bundle(openapiSource, Formats) })
	return served.doc, served.err
}

// Bundle inlines the schema files an OpenAPI document refers to. Each file
// must be the whole target of one entry of components/schemas, its home;
// the file's own references ("#/$defs/x") are rewritten to point into the
// home ("#/components/schemas/Home/$defs/x"), and other references to the
// file, with or without a fragment, point there too. Relative file names
// are resolved in files. Any reference left outside the document is an
// error.
func Bundle(src []byte, files fs.FS) ([]byte, error) {
	var doc map[string]any
	if err := decode(src, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	// Find each file's home: the component that is exactly {"$ref": file}.
	home := map[string]string{}
	names := make([]string, 0, len(schemas))
	for name := range schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if file, frag, ok := fileRef(schemas[name]); ok && frag == "" {
			file = strings.TrimPrefix(path.Clean(file), "formats/")
			if other, dup := home[file]; dup {
				return nil, fmt.Errorf("components/schemas/%s and %s both inline %s", other, name, file)
			}
			home[file] = name
		}
	}
	for file, name := range home {
		b, err := fs.ReadFile(files, file)
		if err != nil {
			return nil, fmt.Errorf("components/schemas/%s: %w", name, err)
		}
		var schema map[string]any
		if err := decode(b, &schema); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		delete(schema, "$schema") // the document's jsonSchemaDialect says it
		delete(schema, "$id")
		if err := rewriteRefs(schema, func(ref string) (string, error) {
			if strings.HasPrefix(ref, "#") {
				return "#/components/schemas/" + escape(name) + strings.TrimPrefix(ref, "#"), nil
			}
			return refToHome(path.Join(path.Dir(file), ref), home)
		}); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		schemas[name] = schema
	}
	// Every other reference to a file now points at the file's home.
	if err := rewriteRefs(doc, func(ref string) (string, error) {
		if strings.HasPrefix(ref, "#") {
			return ref, nil
		}
		return refToHome(ref, home)
	}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep numbers as written
	return d.Decode(v)
}

// fileRef reports whether v is a reference to a file ({"$ref": "f#frag"}).
func fileRef(v any) (file, frag string, ok bool) {
	m, _ := v.(map[string]any)
	ref, _ := m["$ref"].(string)
	if len(m) != 1 || ref == "" || strings.HasPrefix(ref, "#") {
		return "", "", false
	}
	file, frag, _ = strings.Cut(ref, "#")
	return file, frag, true
}

func refToHome(ref string, home map[string]string) (string, error) {
	file, frag, _ := strings.Cut(ref, "#")
	file = strings.TrimPrefix(path.Clean(file), "formats/")
	name, ok := home[file]
	if !ok {
		return "", fmt.Errorf("reference %q: no entry of components/schemas is exactly {\"$ref\": \"formats/%s\"}", ref, file)
	}
	return "#/components/schemas/" + escape(name) + frag, nil
}

// rewriteRefs replaces the value of every "$ref" in v.
func rewriteRefs(v any, f func(string) (string, error)) error {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				r, err := f(s)
				if err != nil {
					return err
				}
				v[k] = r
				continue
			}
			if err := rewriteRefs(x, f); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := rewriteRefs(x, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// escape makes a JSON Pointer reference token (RFC 6901).
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
