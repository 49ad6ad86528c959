package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
	"gopkg.in/yaml.v3"

	"github.com/daprshop/devrun/runner"
)

// Tilt cannot be installed on the machines this repository is built on, so
// this test runs the Tiltfile in a Starlark interpreter with Tilt's builtins
// recorded instead of executed, and checks that it declares one resource per
// app of dapr.yaml, each started by devrun like `make run` does.
func TestTiltfileRunsTheSameTopologyAsMakeRun(t *testing.T) {
	root := filepath.Join("..", "..")
	resources := map[string]map[string]starlark.Value{}
	record := func(name string) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if name != "local_resource" {
				return starlarkstruct.FromStringDict(starlark.String(name), nil), nil
			}
			res := map[string]starlark.Value{}
			for _, kv := range kwargs {
				res[string(kv[0].(starlark.String))] = kv[1]
			}
			resources[string(args[0].(starlark.String))] = res
			return starlark.None, nil
		})
	}
	readYAML := starlark.NewBuiltin("read_yaml", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		b, err := os.ReadFile(filepath.Join(root, string(args[0].(starlark.String))))
		if err != nil {
			return nil, err
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		return toStarlark(v), nil
	})
	predeclared := starlark.StringDict{"read_yaml": readYAML}
	for _, b := range []string{"local_resource", "probe", "http_get_action", "link"} {
		predeclared[b] = record(b)
	}
	thread := &starlark.Thread{Load: func(th *starlark.Thread, module string) (starlark.StringDict, error) {
		return starlark.ExecFileOptions(&syntax.FileOptions{}, th, module, mustRead(t, filepath.Join(root, module)), predeclared)
	}}
	if _, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "Tiltfile", mustRead(t, filepath.Join(root, "Tiltfile")), predeclared); err != nil {
		t.Fatalf("Tiltfile: %v", err)
	}

	rf, err := runner.LoadRunFile(filepath.Join(root, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(name string) string {
		s, _ := resources[name]["serve_cmd"].(starlark.String)
		return string(s)
	}
	if got := serve("control-plane"); got != "go run ./tools/devrun -f dapr.yaml infra" {
		t.Errorf("control-plane serve_cmd %q", got)
	}
	for _, a := range rf.Apps {
		if got, want := serve(a.AppID), "go run ./tools/devrun -f dapr.yaml app "+a.AppID; got != want {
			t.Errorf("%s serve_cmd %q, want %q", a.AppID, got, want)
		}
	}
	if len(resources) != len(rf.Apps)+2 {
		t.Errorf("%d resources, want %d (apps + dapr-runtime + control-plane): %v", len(resources), len(rf.Apps)+2, keys(resources))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toStarlark(v any) starlark.Value {
	switch x := v.(type) {
	case map[string]any:
		d := starlark.NewDict(len(x))
		for k, val := range x {
			_ = d.SetKey(starlark.String(k), toStarlark(val))
		}
		return d
	case []any:
		l := make([]starlark.Value, len(x))
		for i, val := range x {
			l[i] = toStarlark(val)
		}
		return starlark.NewList(l)
	case string:
		return starlark.String(x)
	case int:
		return starlark.MakeInt(x)
	case bool:
		return starlark.Bool(x)
	case nil:
		return starlark.None
	default:
		return starlark.String(fmt.Sprint(x))
	}
}

func keys(m map[string]map[string]starlark.Value) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return strings.Join(out, ",")
}
