package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"mortgaged/docs"
	"mortgaged/mortgage"
	"mortgaged/server"
)

// contract is the OpenAPI document the server serves, for checking real
// answers against it: the status is one the operation documents, the media
// type one that response lists, and a JSON body passes the schema given.
type contract struct {
	doc      map[string]any
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
}

const contractURL = "mem:///openapi.json"

var (
	theContract     *contract
	theContractErr  error
	theContractOnce sync.Once
)

func loadContract(t testing.TB) *contract {
	t.Helper()
	theContractOnce.Do(func() {
		b, err := docs.OpenAPI()
		if err != nil {
			theContractErr = err
			return
		}
		c := &contract{schemas: map[string]*jsonschema.Schema{}}
		if theContractErr = json.Unmarshal(b, &c.doc); theContractErr != nil {
			return
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			theContractErr = err
			return
		}
		c.compiler = jsonschema.NewCompiler()
		c.compiler.DefaultDraft(jsonschema.Draft2020)
		c.compiler.AssertFormat()
		theContractErr = c.compiler.AddResource(contractURL, inst)
		theContract = c
	})
	if theContractErr != nil {
		t.Fatalf("the served OpenAPI document: %v", theContractErr)
	}
	return theContract
}

// pointerToken escapes a JSON Pointer reference token (RFC 6901).
func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func object(v any) map[string]any { m, _ := v.(map[string]any); return m }

// operation is the document's operation for method on a path template.
func (c *contract) operation(method, template string) map[string]any {
	return object(object(object(c.doc["paths"])[template])[strings.ToLower(method)])
}

// check validates one real answer to method on the path template.
func (c *contract) check(t testing.TB, method, template string, r response) {
	t.Helper()
	op := c.operation(method, template)
	if op == nil {
		t.Errorf("%s %s: not in docs/openapi.json", method, template)
		return
	}
	status := strconv.Itoa(r.status)
	resp := object(object(op["responses"])[status])
	ptr := "/paths/" + pointerToken(template) + "/" + strings.ToLower(method) + "/responses/" + status
	if resp == nil {
		t.Errorf("%s %s answered %d, which docs/openapi.json does not list: %.300s", method, template, r.status, r.body)
		return
	}
	if ref, ok := resp["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/responses/")
		resp = object(object(object(c.doc["components"])["responses"])[name])
		ptr = "/components/responses/" + pointerToken(name)
		if resp == nil {
			t.Fatalf("%s %s %d: dangling %s", method, template, r.status, ref)
		}
	}
	content := object(resp["content"])
	if len(r.body) == 0 && len(content) == 0 {
		return
	}
	media, _, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || content[media] == nil {
		keys := make([]string, 0, len(content))
		for k := range content {
			keys = append(keys, k)
		}
		t.Errorf("%s %s %d: Content-Type %q is not among the documented %v", method, template, r.status, r.header.Get("Content-Type"), keys)
		return
	}
	if media != "application/json" && !strings.HasSuffix(media, "+json") {
		return // XML and HTML answers are checked against their XSDs by the format packages' tests
	}
	s, err := c.schema(ptr + "/content/" + pointerToken(media) + "/schema")
	if err != nil {
		t.Fatalf("%s %s %d: compile the documented schema: %v", method, template, r.status, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
	if err != nil {
		t.Errorf("%s %s %d: body is not JSON: %v: %.300s", method, template, r.status, err, r.body)
		return
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s %s %d: the answer does not match docs/openapi.json: %v\n%.2000s", method, template, r.status, err, r.body)
	}
}

func (c *contract) schema(ptr string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.schemas[ptr]; ok {
		return s, nil
	}
	s, err := c.compiler.Compile(contractURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	c.schemas[ptr] = s
	return s, nil
}

// servedRoute is one route of the router: a method and a path template.
type servedRoute struct{ method, path string }

func (r servedRoute) String() string { return r.method + " " + r.path }

// varPattern drops a path variable's pattern: {id:[0-9]+} is {id}.
var varPattern = regexp.MustCompile(`\{([^}:]+):[^}]*\}`)

// notForPartners are the routes that take any method and are deliberately
// outside the partner contract: the /v1 subrouter itself (its routes are
// walked one by one) and the staff console, which has its own sessions and
// its own documentation (docs/console.md).
var notForPartners = map[string]bool{"/v1": true, "/console": true, "/console/": true}

// routesOf walks a server's router as cmd wires it, console included.
func routesOf(t testing.TB) []servedRoute {
	t.Helper()
	srv := server.New(nil, mortgage.NewService(nil, mortgage.Config{Location: shanghai}), nil, slog.New(slog.DiscardHandler))
	srv.MountConsole(http.NotFoundHandler())
	var out []servedRoute
	err := server.RouterOf(srv).Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := rt.GetPathTemplate()
		if err != nil {
			t.Errorf("a route without a path template: %v", err)
			return nil
		}
		tpl = varPattern.ReplaceAllString(tpl, "{$1}")
		methods, err := rt.GetMethods()
		if err != nil {
			if !notForPartners[tpl] {
				t.Errorf("route %s answers every method: give it .Methods(…) so the contract can describe it", tpl)
			}
			return nil
		}
		for _, m := range methods {
			out = append(out, servedRoute{m, tpl})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("walked only %d routes: %v", len(out), out)
	}
	return out
}
