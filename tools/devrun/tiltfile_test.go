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

// call is one recorded call of a Tilt builtin.
type call struct {
	name   string
	args   []starlark.Value
	kwargs map[string]starlark.Value
}

func (c call) str(key string) string {
	s, _ := c.kwargs[key].(starlark.String)
	return string(s)
}

// tilt runs the Tiltfile in a Starlark interpreter with Tilt's builtins
// recorded instead of executed (Tilt cannot be installed on the machines
// this repository is built on), with the given `tilt up -- <args>` values.
func tilt(t *testing.T, args map[string]any) []call {
	t.Helper()
	root := filepath.Join("..", "..")
	var calls []call
	record := func(name string) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			c := call{name: name, args: a, kwargs: map[string]starlark.Value{}}
			for _, kv := range kw {
				c.kwargs[string(kv[0].(starlark.String))] = kv[1]
			}
			calls = append(calls, c)
			if name == "helm" {
				return starlark.Bytes("rendered chart"), nil
			}
			return starlarkstruct.FromStringDict(starlark.String(name), nil), nil
		})
	}
	readYAML := starlark.NewBuiltin("read_yaml", func(_ *starlark.Thread, _ *starlark.Builtin, a starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		b, err := os.ReadFile(filepath.Join(root, string(a[0].(starlark.String))))
		if err != nil {
			return nil, err
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		return toStarlark(v), nil
	})
	parse := starlark.NewBuiltin("parse", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return toStarlark(args), nil
	})
	predeclared := starlark.StringDict{
		"read_yaml": readYAML,
		"config": starlarkstruct.FromStringDict(starlark.String("config"), starlark.StringDict{
			"define_bool": record("config.define_bool"), "define_string": record("config.define_string"), "parse": parse,
		}),
	}
	for _, b := range []string{"local_resource", "probe", "http_get_action", "link", "docker_build", "helm", "k8s_yaml", "k8s_resource", "sync"} {
		predeclared[b] = record(b)
	}
	thread := &starlark.Thread{Load: func(th *starlark.Thread, module string) (starlark.StringDict, error) {
		if module == "ext://restart_process" {
			return starlark.StringDict{"docker_build_with_restart": record("docker_build_with_restart")}, nil
		}
		return starlark.ExecFileOptions(tiltDialect, th, module, mustRead(t, filepath.Join(root, module)), predeclared)
	}}
	if _, err := starlark.ExecFileOptions(tiltDialect, thread, "Tiltfile", mustRead(t, filepath.Join(root, "Tiltfile")), predeclared); err != nil {
		t.Fatalf("Tiltfile: %v", err)
	}
	return calls
}

func only(calls []call, name string) []call {
	var out []call
	for _, c := range calls {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

func apps(t *testing.T) *runner.RunFile {
	rf, err := runner.LoadRunFile(filepath.Join("..", "..", "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return rf
}

// Local mode declares one resource per app of dapr.yaml, each started by
// devrun as `make run` starts it, plus the runtime build and control plane.
func TestTiltfileLocalModeRunsTheSameTopologyAsMakeRun(t *testing.T) {
	for _, profile := range []string{"", "nats"} {
		t.Run("profile="+profile, func(t *testing.T) {
			args := map[string]any{}
			flags := "-f dapr.yaml"
			if profile != "" {
				args["profile"] = profile
				flags += " -profile " + profile
			}
			calls := tilt(t, args)
			serve := map[string]string{}
			for _, c := range only(calls, "local_resource") {
				serve[string(c.args[0].(starlark.String))] = c.str("serve_cmd")
			}
			if got := serve["control-plane"]; got != "go run ./tools/devrun "+flags+" infra" {
				t.Errorf("control-plane serve_cmd %q", got)
			}
			rf := apps(t)
			for _, a := range rf.Apps {
				if got, want := serve[a.AppID], "go run ./tools/devrun "+flags+" app "+a.AppID; got != want {
					t.Errorf("%s serve_cmd %q, want %q", a.AppID, got, want)
				}
			}
			if len(serve) != len(rf.Apps)+2 {
				t.Errorf("%d resources, want %d (apps + dapr-runtime + control-plane): %v", len(serve), len(rf.Apps)+2, serve)
			}
			if len(only(calls, "k8s_yaml")) != 0 || len(only(calls, "docker_build_with_restart")) != 0 {
				t.Error("local mode touches Kubernetes")
			}
		})
	}
}

// Kubernetes mode builds one image per app, live-updates its binary,
// deploys the Helm chart with the profile and forwards the gateway.
func TestTiltfileKubernetesMode(t *testing.T) {
	calls := tilt(t, map[string]any{"k8s": true, "profile": "kafka"})
	rf := apps(t)
	builds := only(calls, "docker_build_with_restart")
	if len(builds) != len(rf.Apps) {
		t.Fatalf("%d image builds for %d apps", len(builds), len(rf.Apps))
	}
	compiles := map[string]string{}
	for _, c := range only(calls, "local_resource") {
		compiles[string(c.args[0].(starlark.String))] = c.str("cmd")
	}
	dockerfile := mustRead(t, filepath.Join("..", "..", "tilt", "Dockerfile.dev"))
	nodeDockerfile := mustRead(t, filepath.Join("..", "..", "deploy", "docker", "node.Dockerfile"))
	for i, a := range rf.Apps {
		b := builds[i]
		if got := string(b.args[0].(starlark.String)); got != "daprshop/"+a.AppID {
			t.Errorf("image %q for %s: the chart's image is daprshop/%s", got, a.AppID, a.AppID)
		}
		if len(a.Command) > 0 && a.Command[0] == "node" {
			// Node.js: the Node image's dev stage, src/ synced live.
			lu, _ := b.kwargs["live_update"].(*starlark.List)
			if b.str("dockerfile") != "deploy/docker/node.Dockerfile" || b.str("target") != "dev" || !strings.Contains(string(nodeDockerfile), " AS dev") {
				t.Errorf("%s: dockerfile %q target %q, want the Node image's dev stage", a.AppID, b.str("dockerfile"), b.str("target"))
			}
			synced := false
			for _, s := range only(calls, "sync") {
				synced = synced || (len(s.args) == 2 && s.args[0] == starlark.String("services/"+a.AppID+"/src") && s.args[1] == starlark.String("/app/src"))
			}
			if lu == nil || lu.Len() != 1 || !synced {
				t.Errorf("%s: live_update %v, want services/%s/src synced to /app/src", a.AppID, b.kwargs["live_update"], a.AppID)
			}
			if _, ok := compiles[a.AppID+"-compile"]; ok {
				t.Errorf("%s is Node.js but has a Go compile step", a.AppID)
			}
			continue
		}
		bin := ".bin/tilt/" + a.AppID
		if cmd := compiles[a.AppID+"-compile"]; !strings.Contains(cmd, "-o "+bin+" ./services/"+a.AppID) || !strings.Contains(cmd, "CGO_ENABLED=0 GOOS=linux") {
			t.Errorf("%s compile: %q", a.AppID, cmd)
		}
		if b.str("dockerfile") != "tilt/Dockerfile.dev" || !strings.Contains(string(dockerfile), "COPY .bin/tilt/${SERVICE} /app") {
			t.Errorf("%s: dockerfile %q does not copy the compiled binary", a.AppID, b.str("dockerfile"))
		}
		lu, _ := b.kwargs["live_update"].(*starlark.List)
		if lu == nil || lu.Len() != 1 {
			t.Errorf("%s: live_update %v", a.AppID, b.kwargs["live_update"])
		}
	}
	syncs := only(calls, "sync")
	if len(syncs) != len(rf.Apps) || string(syncs[0].args[1].(starlark.String)) != "/app" {
		t.Errorf("syncs: %v", syncs)
	}
	helm := only(calls, "helm")
	if len(helm) != 1 || string(helm[0].args[0].(starlark.String)) != "deploy/helm/daprshop" {
		t.Fatalf("helm calls: %v", helm)
	}
	set, _ := helm[0].kwargs["set"].(*starlark.List)
	if set == nil || !strings.Contains(set.String(), `"profile=kafka"`) {
		t.Errorf("helm set %v does not choose the profile", set)
	}
	if len(only(calls, "k8s_yaml")) != 1 {
		t.Error("the chart is not deployed")
	}
	for _, r := range only(calls, "k8s_resource") {
		pf, _ := r.kwargs["port_forwards"].(*starlark.List)
		if string(r.args[0].(starlark.String)) == "gateway" && (pf == nil || pf.Len() != 1 || pf.Index(0).(starlark.String) != "8000:8000") {
			t.Errorf("gateway port forward %v", pf)
		}
	}
	for _, c := range only(calls, "local_resource") {
		if strings.Contains(c.str("serve_cmd"), "devrun") {
			t.Errorf("Kubernetes mode also runs %s locally", c.args[0])
		}
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

// tiltDialect is the Starlark dialect Tilt accepts (top-level if and for,
// sets, while, recursion).
var tiltDialect = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
