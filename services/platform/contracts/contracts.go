// Package contracts holds the services to the API documents published under
// contracts/openapi: each service's tests list the routes its router
// serves, and Check compares them, both ways, with the operations the
// documents give that app (their paths' x-app). A route nobody documented
// or a documented route nobody serves fails the build.
package contracts

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/daprshop/platform/daprtest"
)

// Dir is where the OpenAPI documents are, from the repository root.
const Dir = "contracts/openapi"

// GatewayDoc is the public API's document. Its paths are /api/<path>,
// which the gateway forwards to the path's x-app as <path>.
const GatewayDoc = "gateway.yaml"

// Operation is one method on one path template ("/users/{id}").
type Operation struct{ Method, Path string }

func (o Operation) String() string { return o.Method + " " + o.Path }

// Published answers, for every app, the operations the documents say it
// serves. A path of gateway.yaml, /api/<path>, is served by the gateway and
// forwarded to its one x-app as <path>.
func Published(root string) (map[string][]Operation, error) {
	files, err := filepath.Glob(filepath.Join(root, Dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no API documents in %s: %v", filepath.Join(root, Dir), err)
	}
	byApp := map[string][]Operation{}
	for _, f := range files {
		doc, err := read(f)
		if err != nil {
			return nil, err
		}
		gateway := filepath.Base(f) == GatewayDoc
		for path, item := range doc.Paths {
			if len(item.Apps) == 0 {
				return nil, fmt.Errorf("%s: path %s has no x-app (the app that serves it)", f, path)
			}
			for _, method := range item.methods() {
				served := Operation{method, path}
				if gateway {
					byApp["gateway"] = append(byApp["gateway"], served)
					served.Path = strings.TrimPrefix(path, "/api")
				}
				for _, app := range item.Apps {
					byApp[app] = append(byApp[app], served)
				}
			}
		}
	}
	return byApp, nil
}

// Gateway answers the public API's operations with the app each goes to
// (gateway.yaml alone: another document may give the same path to another
// app).
func Gateway(root string) (map[Operation]string, error) {
	doc, err := read(filepath.Join(root, Dir, GatewayDoc))
	if err != nil {
		return nil, err
	}
	out := map[Operation]string{}
	for path, item := range doc.Paths {
		if len(item.Apps) != 1 {
			return nil, fmt.Errorf("%s: path %s must name the one app it goes to (x-app)", GatewayDoc, path)
		}
		for _, m := range item.methods() {
			out[Operation{m, path}] = item.Apps[0]
		}
	}
	return out, nil
}

// routes lists the operations a router serves.
func routes(r *mux.Router) ([]Operation, error) {
	var ops []Operation
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return nil // a route without a path (a matcher of its own) serves nothing here
		}
		methods, err := route.GetMethods()
		if err != nil {
			return fmt.Errorf("route %s serves every method: name them", path)
		}
		for _, m := range methods {
			ops = append(ops, Operation{m, path})
		}
		return nil
	})
	return ops, err
}

// Check fails t for every route of r that no document gives app, and every
// operation the documents give app that r does not serve.
func Check(t testing.TB, app string, r *mux.Router) {
	t.Helper()
	published, err := Published(daprtest.RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	served, err := routes(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range served {
		if !slices.Contains(published[app], op) {
			t.Errorf("%s serves %s, which no document in %s gives it (x-app: %s)", app, op, Dir, app)
		}
	}
	for _, op := range published[app] {
		if !slices.Contains(served, op) {
			t.Errorf("the documents in %s say %s serves %s, and it does not", Dir, app, op)
		}
	}
}

type document struct {
	Paths map[string]pathItem `yaml:"paths"`
}

type pathItem struct {
	Apps apps `yaml:"x-app"`
	ops  map[string]bool
}

func (p *pathItem) UnmarshalYAML(n *yaml.Node) error {
	var raw map[string]yaml.Node
	if err := n.Decode(&raw); err != nil {
		return err
	}
	p.ops = map[string]bool{}
	for key, v := range raw {
		switch m := strings.ToUpper(key); {
		case key == "x-app":
			if err := v.Decode(&p.Apps); err != nil {
				return err
			}
		case slices.Contains(methods, m):
			p.ops[m] = true
		}
	}
	return nil
}

func (p pathItem) methods() []string {
	var out []string
	for _, m := range methods {
		if p.ops[m] {
			out = append(out, m)
		}
	}
	return out
}

var methods = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions}

// apps is x-app: one app ID or a list of them.
type apps []string

func (a *apps) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*a = apps{n.Value}
		return nil
	}
	var list []string
	err := n.Decode(&list)
	*a = list
	return err
}

func read(file string) (*document, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var d document
	if err := yaml.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &d, nil
}

// schemaBase is the $id of contracts/events/: a schema's $id is this plus its
// file name, and "$ref": "defs.schema.json#/..." resolves against it.
const schemaBase = "https://daprshop.example/contracts/events/"

// EventSchemas compiles contracts/events/*.schema.json, by topic. defs.schema.json
// holds the shared shapes (Money, order and reserved lines) the others $ref;
// it is the one file that is no topic's.
func EventSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(daprtest.RepoRoot(t), "contracts", "events", "*.schema.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in contracts/events: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // else "format": "date-time" is only an annotation
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// Registered under its $id, so the $refs between files resolve offline.
		if id, _ := doc.(map[string]any)["$id"].(string); id != schemaBase+filepath.Base(f) {
			t.Errorf("%s: $id %q, want %q", f, id, schemaBase+filepath.Base(f))
		}
		if err := c.AddResource(schemaBase+filepath.Base(f), doc); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".schema.json")
		if name == "defs" {
			continue
		}
		s, err := c.Compile(schemaBase + filepath.Base(f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if s.DraftVersion != 2020 {
			t.Errorf("%s: draft %d, want 2020-12", f, s.DraftVersion)
		}
		out[name] = s
	}
	return out
}
