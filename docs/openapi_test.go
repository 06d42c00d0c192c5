package docs_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"mortgaged/docs"
)

var writeServed = flag.String("write-served", "", "write the OpenAPI document as served (bundled) to this file, for linting")

// examples maps every JSON worked example to where the served OpenAPI
// document describes it: a request body or an answer of an operation.
// A new example must be added here (and to .ci/contracts).
var examples = map[string]string{
	"first-general.request.json":    "/paths/~1v1~1bundles/post/requestBody/content/application~1json/schema",
	"first-maximum.request.json":    "/paths/~1v1~1bundles/post/requestBody/content/application~1json/schema",
	"cancellation.request.json":     "/paths/~1v1~1bundles/post/requestBody/content/application~1json/schema",
	"rejected-seized.request.json":  "/paths/~1v1~1bundles/post/requestBody/content/application~1json/schema",
	"first-general.response.json":   "/paths/~1v1~1bundles/post/responses/201/content/application~1json/schema",
	"first-maximum.response.json":   "/paths/~1v1~1bundles/post/responses/201/content/application~1json/schema",
	"cancellation.response.json":    "/paths/~1v1~1bundles/post/responses/201/content/application~1json/schema",
	"rejected-seized.response.json": "/paths/~1v1~1bundles/post/responses/201/content/application~1json/schema",
	"invalid.problem.json":          "/components/responses/Unprocessable/content/application~1problem+json/schema",
	"certificate-v1.json":           "/paths/~1v1~1certificates~1{number}/get/responses/200/content/application~1json/schema",
	"certificate-v1.envelope.json":  "/paths/~1v1~1certificates~1{number}/get/responses/200/content/application~1json/schema",
	"mortgaged-keys.example.json":   "/paths/~1.well-known~1mortgaged-keys.json/get/responses/200/content/application~1json/schema",
}

// invalidExamples are examples that show a refused request: the schema
// must refuse them too.
var invalidExamples = map[string]string{
	"invalid.request.json": "/paths/~1v1~1bundles/post/requestBody/content/application~1json/schema",
}

// moreDocuments are documents outside docs/examples that the published
// schemas must accept: the certificates the server issues in its tests.
var moreDocuments = map[string]string{
	"../mortgage/testdata/certificate-general.golden.json": "/components/schemas/Certificate",
	"../mortgage/testdata/certificate-maximum.golden.json": "/components/schemas/Certificate",
}

func compiler(t *testing.T) (*jsonschema.Compiler, []byte) {
	t.Helper()
	served, err := docs.OpenAPI()
	if err != nil {
		t.Fatalf("bundle docs/openapi.json: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(served))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.AssertContent()
	if err := c.AddResource("mem:///openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	return c, served
}

// TestWorkedExamplesPassTheOpenAPISchemas validates every JSON example in
// docs/examples against the schema the served OpenAPI document gives for
// it, through the document's own references: the examples, the schema
// files and the OpenAPI document agree.
func TestWorkedExamplesPassTheOpenAPISchemas(t *testing.T) {
	c, served := compiler(t)
	if *writeServed != "" {
		if err := os.WriteFile(*writeServed, served, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob("examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples (%v)", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if examples[name] == "" && invalidExamples[name] == "" {
			t.Errorf("docs/examples/%s is not mapped to the OpenAPI document: add it to examples in docs/openapi_test.go and to .ci/contracts", name)
		}
	}
	check := func(path, ptr string, valid bool) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := c.Compile("mem:///openapi.json#" + ptr)
			if err != nil {
				t.Fatalf("compile %s: %v", ptr, err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate(v)
			switch {
			case valid && err != nil:
				t.Errorf("%s does not pass %s: %v", path, ptr, err)
			case !valid && err == nil:
				t.Errorf("%s shows a refused request, but %s accepts it", path, ptr)
			}
		})
	}
	for name, ptr := range examples {
		check(filepath.Join("examples", name), ptr, true)
	}
	for name, ptr := range invalidExamples {
		check(filepath.Join("examples", name), ptr, false)
	}
	for path, ptr := range moreDocuments {
		check(path, ptr, true)
	}
}

// TestEverySchemaFileIsPublished: each JSON Schema in docs/formats is a
// component of the OpenAPI document, so no format goes undescribed.
func TestEverySchemaFileIsPublished(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(docs.OpenAPISource(), &doc); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, v := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		if ref, ok := v.(map[string]any)["$ref"].(string); ok {
			refs = append(refs, strings.TrimPrefix(ref, "formats/"))
		}
	}
	files, _ := filepath.Glob("formats/*.schema.json")
	for _, f := range files {
		if !slices.Contains(refs, filepath.Base(f)) {
			t.Errorf("%s is not a component of docs/openapi.json", f)
		}
	}
}

// TestBundle checks the inlining on a small document: a file's own
// references are rewritten into its home, a fragment reference follows,
// and a reference to a file without a home is refused.
func TestBundle(t *testing.T) {
	files := fstest.MapFS{"a.schema.json": {Data: []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema",
		"type": "object", "properties": {"x": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"type": "string"}}}`)}}
	src := `{"openapi": "3.1.0", "paths": {}, "components": {"schemas": {
		"A/B": {"$ref": "formats/a.schema.json"}, "X": {"$ref": "formats/a.schema.json#/$defs/x"}}}}`
	out, err := docs.Bundle([]byte(src), files)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	schemas := got["components"].(map[string]any)["schemas"].(map[string]any)
	a := schemas["A/B"].(map[string]any)
	if a["$schema"] != nil || a["properties"].(map[string]any)["x"].(map[string]any)["$ref"] != "#/components/schemas/A~1B/$defs/x" {
		t.Errorf("inlined: %v", a)
	}
	if x := schemas["X"].(map[string]any)["$ref"]; x != "#/components/schemas/A~1B/$defs/x" {
		t.Errorf("fragment reference: %v", x)
	}
	for name, bad := range map[string]string{
		"no home":      `{"components": {"schemas": {"X": {"$ref": "formats/a.schema.json#/$defs/x"}}}}`,
		"missing file": `{"components": {"schemas": {"A": {"$ref": "formats/nope.schema.json"}}}}`,
		"elsewhere":    `{"components": {"schemas": {"A": {"$ref": "formats/a.schema.json"}}}, "paths": {"/": {"get": {"responses": {"200": {"description": "x", "content": {"application/json": {"schema": {"$ref": "other.json"}}}}}}}}}`,
	} {
		if _, err := docs.Bundle([]byte(bad), files); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
