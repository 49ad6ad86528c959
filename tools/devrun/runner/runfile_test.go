package runner

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadRunFileAppliesCommon(t *testing.T) {
	dir := t.TempDir()
	f := write(t, dir, "dapr.yaml", `
version: 1
common:
  resourcesPaths: [./components]
  appHealthCheckPath: /healthz
  enableAppHealthCheck: true
  env: {LOG_LEVEL: info, SHARED: common}
apps:
  - appID: a
    appDirPath: ./svc/a
    appPort: 1
    env: {SHARED: mine}
    command: ["go", "run", "."]
  - appID: b
    appDirPath: ./svc/b
    resourcesPaths: [./other]
    configFilePath: ./cfg/b.yaml
    command: ["./b", "--flag"]
`)
	rf, err := LoadRunFile(f)
	if err != nil {
		t.Fatal(err)
	}
	a, b := rf.Apps[0], rf.Apps[1]
	if a.ResourcesPaths[0] != filepath.Join(dir, "components") || b.ResourcesPaths[0] != filepath.Join(dir, "other") {
		t.Errorf("resources paths %v / %v", a.ResourcesPaths, b.ResourcesPaths)
	}
	if a.Env["SHARED"] != "mine" || a.Env["LOG_LEVEL"] != "info" || b.Env["SHARED"] != "common" {
		t.Errorf("env %v / %v", a.Env, b.Env)
	}
	if !*a.EnableAppHealthCheck || a.AppHealthCheckPath != "/healthz" || a.AppProtocol != "http" {
		t.Errorf("health/protocol not inherited: %+v", a)
	}
	if b.ConfigFilePath != filepath.Join(dir, "cfg", "b.yaml") || a.AppDirPath != filepath.Join(dir, "svc", "a") {
		t.Errorf("paths not made absolute: %q %q", b.ConfigFilePath, a.AppDirPath)
	}
	if pkg, rest, ok := goRunPackage(a.Command); !ok || pkg != "." || len(rest) != 0 {
		t.Errorf("go run not recognised: %v", a.Command)
	}
	if _, _, ok := goRunPackage(b.Command); ok {
		t.Error("a plain command taken for go run")
	}
}

func TestLoadRunFileRejectsMistakes(t *testing.T) {
	for name, body := range map[string]string{
		"wrong version": "version: 2\napps: [{appID: a, command: [x]}]",
		"no apps":       "version: 1\n",
		"no app id":     "version: 1\napps: [{command: [x]}]",
		"duplicate id":  "version: 1\napps: [{appID: a, command: [x]}, {appID: a, command: [y]}]",
		"no command":    "version: 1\napps: [{appID: a}]",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadRunFile(write(t, t.TempDir(), "dapr.yaml", body)); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// The runner must refuse at once, and say how to fix it, when Redis is down
// or a port is taken, rather than start half a topology.
func TestPreflightExplainsWhatIsWrong(t *testing.T) {
	busy, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	deadRedis := closed.Addr().String()
	closed.Close()

	dir := t.TempDir()
	write(t, dir, "components/state.yaml", `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: s}
spec:
  type: state.redis
  metadata:
    - {name: redisHost, value: "`+deadRedis+`"}
`)
	f := write(t, dir, "dapr.yaml", `
version: 1
apps:
  - appID: a
    appDirPath: .
    appPort: `+strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)+`
    daprHTTPPort: 39501
    daprGRPCPort: 39502
    daprInternalGRPCPort: 39503
    metricsPort: 39504
    resourcesPaths: [./components]
    command: ["true"]
`)
	_, err = Start(context.Background(), Options{RunFile: f, NoControlPlane: true, StateDir: t.TempDir(), Out: &strings.Builder{}})
	if err == nil {
		t.Fatal("started anyway")
	}
	for _, want := range []string{"a app port) is in use", "Redis at " + deadRedis, "redis-server"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
