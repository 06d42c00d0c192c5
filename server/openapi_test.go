package server_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"mortgaged/docs"
	"mortgaged/mortgage"
	"mortgaged/server"
)

var operationMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIDescribesEveryRoute keeps docs/openapi.json and the router in
// step: every route served (method and path template) is described, and
// nothing is described that is not served. It also checks what the
// document can be checked for without a request: path parameters match the
// template, every /v1 operation is signed (and answers as the
// authentication middleware can), public ones say they need no signature.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	c := loadContract(t)
	served := map[servedRoute]bool{}
	for _, r := range routesOf(t) {
		served[r] = true
	}
	documented := map[servedRoute]bool{}
	for path, item := range object(c.doc["paths"]) {
		for _, m := range operationMethods {
			if object(item)[m] != nil {
				documented[servedRoute{strings.ToUpper(m), path}] = true
			}
		}
	}
	for r := range served {
		if !documented[r] {
			t.Errorf("%s is served but not described in docs/openapi.json", r)
		}
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("docs/openapi.json describes %s, which the server does not serve", r)
		}
	}

	pathVar := regexp.MustCompile(`\{([^}]+)\}`)
	for r := range documented {
		op := c.operation(r.method, r.path)
		var want, got []string
		for _, m := range pathVar.FindAllStringSubmatch(r.path, -1) {
			want = append(want, m[1])
		}
		for _, p := range c.parameters(op, object(c.doc["paths"])[r.path]) {
			if p["in"] == "path" {
				got = append(got, p["name"].(string))
				if p["required"] != true {
					t.Errorf("%s: path parameter %s must be required", r, p["name"])
				}
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(want, got) {
			t.Errorf("%s: path parameters %v, the template has %v", r, got, want)
		}
		responses := object(op["responses"])
		must := []string{"500"}
		sec, ownSecurity := op["security"].([]any)
		if strings.HasPrefix(r.path, "/v1/") {
			if ownSecurity {
				t.Errorf("%s: a /v1 operation is signed: leave security to the document's default", r)
			}
			must = append(must, "401", "403", "413", "429") // what authenticatePartner answers
		} else if !ownSecurity || len(sec) != 0 {
			t.Errorf("%s: a public route must say `\"security\": []`", r)
		}
		for _, status := range must {
			if responses[status] == nil {
				t.Errorf("%s: does not document %s", r, status)
			}
		}
		if op["operationId"] == nil || op["summary"] == nil {
			t.Errorf("%s: needs an operationId and a summary", r)
		}
	}
}

// parameters resolves an operation's parameters with those of its path item.
func (c *contract) parameters(op map[string]any, item any) []map[string]any {
	var out []map[string]any
	for _, list := range []any{object(item)["parameters"], op["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			pm := object(p)
			if ref, ok := pm["$ref"].(string); ok {
				pm = object(object(object(c.doc["components"])["parameters"])[strings.TrimPrefix(ref, "#/components/parameters/")])
			}
			out = append(out, pm)
		}
	}
	return out
}

// TestOpenAPIServed: GET /openapi.json serves the document standing alone
// (every reference inside it resolves, none leads outside), and every
// format file it points to is served under /docs/formats/.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	c := loadContract(t)
	srv := server.New(nil, mortgage.NewService(nil, mortgage.Config{Location: shanghai}), nil, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	get := func(path string) response {
		t.Helper()
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{res.StatusCode, res.Header, b}
	}

	r := get("/openapi.json")
	want, _ := docs.OpenAPI()
	if r.status != http.StatusOK || !bytes.Equal(r.body, want) {
		t.Fatalf("GET /openapi.json: %d, %d bytes; want 200 and the bundled document", r.status, len(r.body))
	}
	c.check(t, http.MethodGet, "/openapi.json", r)

	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					if !strings.HasPrefix(s, "#/") {
						t.Errorf("the served document refers outside itself: %s", s)
					} else if resolve(c.doc, s) == nil {
						t.Errorf("the served document's %s leads nowhere", s)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(c.doc)

	files := map[string]bool{}
	for _, m := range regexp.MustCompile(`/docs/formats/([a-z0-9.-]+\.(?:xsd|json|md))`).FindAllStringSubmatch(string(want), -1) {
		files[m[1]] = true
	}
	if len(files) < 6 {
		t.Fatalf("the document points to only %d format files: %v", len(files), files)
	}
	for f := range files {
		r := get("/docs/formats/" + f)
		if r.status != http.StatusOK || len(r.body) == 0 {
			t.Errorf("GET /docs/formats/%s: %d; the document points there", f, r.status)
			continue
		}
		c.check(t, http.MethodGet, "/docs/formats/{file}", r)
	}
	for _, missing := range []string{"nope.xsd", "..", "embed.go", "%2e%2e%2fopenapi.json"} {
		r := get("/docs/formats/" + missing)
		if r.status != http.StatusNotFound {
			t.Errorf("GET /docs/formats/%s: %d, want 404", missing, r.status)
		}
	}
	c.check(t, http.MethodGet, "/docs/formats/{file}", get("/docs/formats/nope.xsd"))
}

// resolve follows a local JSON Pointer reference ("#/a/b") in doc.
func resolve(doc any, ref string) any {
	v := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = m[tok]; !ok {
			return nil
		}
	}
	return v
}

// TestPublicRoutesAnswerAsDocumented sends the routes that need no
// signature their usual requests and checks every answer against the
// served document.
func TestPublicRoutesAnswerAsDocumented(t *testing.T) {
	t.Parallel()
	a := setup(t)
	c := loadContract(t)
	r := a.post(bankA.ID, a.body("LJB-PUBLIC-1"))
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	number := object(r.json(t)["registration"])["certificateNumber"].(string)
	cert := a.do(http.MethodGet, "/v1/certificates/"+url.PathEscape(number), bankA.ID, "", nil)
	code, _ := cert.json(t)["verificationCode"].(string)
	if code == "" {
		t.Fatalf("certificate: %d %s", cert.status, cert.body)
	}
	q := url.Values{"number": {number}, "code": {code}}.Encode()
	for _, tc := range []struct {
		template, path string
		status         int
	}{
		{"/healthz", "/healthz", 200},
		{"/readyz", "/readyz", 200},
		{"/openapi.json", "/openapi.json", 200},
		{"/.well-known/mortgaged-keys.json", "/.well-known/mortgaged-keys.json", 200},
		{"/verify", "/verify?" + q, 200},
		{"/verify", "/verify?number=" + url.QueryEscape(number), 400},
		{"/verify", "/verify?number=x&code=y", 200},
		{"/verify/page", "/verify/page", 200},
		{"/verify/page", "/verify/page?" + q, 200},
		{"/certificates/{number}/print", "/certificates/" + url.PathEscape(number) + "/print?code=" + code, 200},
		{"/certificates/{number}/print", "/certificates/" + url.PathEscape(number) + "/print?code=WRONG", 404},
		{"/docs/formats/{file}", "/docs/formats/centre-json-v1.schema.json", 200},
		{"/docs/formats/{file}", "/docs/formats/centre-xml-v1.md", 200},
	} {
		r := a.do(http.MethodGet, tc.path, "", "", nil)
		if r.status != tc.status {
			t.Errorf("GET %s: %d, want %d: %.300s", tc.path, r.status, tc.status, r.body)
			continue
		}
		c.check(t, http.MethodGet, tc.template, r)
	}
	// Unsigned, a /v1 route answers 401 as documented.
	c.check(t, http.MethodGet, "/v1/bundles/{id}", a.do(http.MethodGet, "/v1/bundles/bxxxxxxxxxxxxxxxx", "", "", nil))
}
