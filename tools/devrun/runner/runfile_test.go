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

// ports is the part of an app entry every test needs: the CLI would pick
// free ports for unset ones, which the runner refuses.
const ports = `
    daprHTTPPort: 3500
    daprGRPCPort: 3600
    daprInternalGRPCPort: 3700
    metricsPort: 9100`

func load(t *testing.T, dir, body string) *RunFile {
	t.Helper()
	rf, err := LoadRunFile(write(t, dir, "dapr.yaml", body))
	if err != nil {
		t.Fatal(err)
	}
	return rf
}

// The Dapr CLI's path rules (dapr/cli pkg/runfileconfig): `common` paths
// against the run file's folder, an app's own paths against its appDirPath.
func TestRunFilePathsFollowTheCLI(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"components", "cfg/common.yaml", "svc/a/x", "svc/b/res", "svc/b/cfg.yaml", "svc/b/legacy"} {
		write(t, dir, filepath.Join(d, ".keep"), "")
	}
	rf := load(t, dir, `
version: 1
common:
  resourcesPaths: [./components]
  configFilePath: ./cfg/common.yaml
apps:
  - appID: a
    appDirPath: ./svc/a`+ports+`
    command: ["go", "run", "."]
  - appID: b
    appDirPath: svc/b
    resourcesPaths: [./res]
    resourcesPath: ./legacy
    configFilePath: ./cfg.yaml`+ports+`
    command: ["./b", "--flag"]
`)
	a, b := rf.Apps[0], rf.Apps[1]
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("a's appDirPath (run file folder)", a.AppDirPath, filepath.Join(dir, "svc", "a"))
	check("a's resources (common, run file folder)", strings.Join(a.ResourcesPaths, ","), filepath.Join(dir, "components"))
	check("a's config (common, run file folder)", a.ConfigFilePath, filepath.Join(dir, "cfg", "common.yaml"))
	check("b's resources (its own, against appDirPath; resourcesPath appended)", strings.Join(b.ResourcesPaths, ","),
		filepath.Join(dir, "svc", "b", "res")+","+filepath.Join(dir, "svc", "b", "legacy"))
	check("b's config (its own, against appDirPath)", b.ConfigFilePath, filepath.Join(dir, "svc", "b", "cfg.yaml"))
	if pkg, rest, ok := goRunPackage(a.Command); !ok || pkg != "." || len(rest) != 0 {
		t.Errorf("go run not recognised: %v", a.Command)
	}
	if _, _, ok := goRunPackage(b.Command); ok {
		t.Error("a plain command taken for go run")
	}

	// The same app paths relative to the run file, as a user might write
	// them by mistake, do not exist under the app's folder: refused, as the
	// CLI refuses them.
	_, err := LoadRunFile(write(t, dir, "wrong.yaml", `
version: 1
apps:
  - appID: b
    appDirPath: ./svc/b
    configFilePath: ./cfg/common.yaml`+ports+`
    command: ["x"]
`))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "svc", "b", "cfg", "common.yaml")) {
		t.Errorf("an app path was not resolved against appDirPath: %v", err)
	}
}

// Precedence for resources and the config file: the app's own, then
// <appDirPath>/.dapr/resources and .dapr/config.yaml, then common, then
// ~/.dapr/components and ~/.dapr/config.yaml.
func TestRunFileResourcesAndConfigPrecedence(t *testing.T) {
	dir, home := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	for _, d := range []string{"components", "common.yaml", "svc/local/.dapr/resources", "svc/local/.dapr/config.yaml", "svc/plain"} {
		write(t, dir, filepath.Join(d, ".keep"), "")
	}
	withCommon := load(t, dir, `
version: 1
common: {resourcesPaths: [./components], configFilePath: ./common.yaml}
apps:
  - {appDirPath: ./svc/local, command: [x], daprHTTPPort: 1, daprGRPCPort: 2, daprInternalGRPCPort: 3, metricsPort: 4}
  - {appDirPath: ./svc/plain, command: [x], daprHTTPPort: 1, daprGRPCPort: 2, daprInternalGRPCPort: 3, metricsPort: 4}
`)
	local, plain := withCommon.Apps[0], withCommon.Apps[1]
	if got := local.ResourcesPaths[0]; got != filepath.Join(dir, "svc", "local", ".dapr", "resources") {
		t.Errorf(".dapr/resources does not win over common: %s", got)
	}
	if local.ConfigFilePath != filepath.Join(dir, "svc", "local", ".dapr", "config.yaml") {
		t.Errorf(".dapr/config.yaml does not win over common: %s", local.ConfigFilePath)
	}
	if plain.ResourcesPaths[0] != filepath.Join(dir, "components") || plain.ConfigFilePath != filepath.Join(dir, "common.yaml") {
		t.Errorf("common not used: %v %s", plain.ResourcesPaths, plain.ConfigFilePath)
	}
	if local.AppID != "local" || plain.AppID != "plain" {
		t.Errorf("appID does not default to the folder name: %q %q", local.AppID, plain.AppID)
	}
	bare := load(t, dir, `
version: 1
apps:
  - {appDirPath: ./svc/plain, command: [x], daprHTTPPort: 1, daprGRPCPort: 2, daprInternalGRPCPort: 3, metricsPort: 4}
`).Apps[0]
	if bare.ResourcesPaths[0] != filepath.Join(home, ".dapr", "components") || bare.ConfigFilePath != filepath.Join(home, ".dapr", "config.yaml") {
		t.Errorf("dapr init's defaults not used: %v %s", bare.ResourcesPaths, bare.ConfigFilePath)
	}
}

// Shared settings come from common when the app leaves them unset (a true
// boolean in common cannot be turned off by an app); env maps merge with
// the app winning; the CLI's defaults fill the rest.
func TestRunFileInheritanceAndDefaults(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "svc/a/.keep", "")
	write(t, dir, "svc/b/.keep", "")
	rf := load(t, dir, `
version: 1
common:
  appHealthCheckPath: /healthz
  enableAppHealthCheck: true
  logLevel: info
  placementHostAddress: localhost
  env: {LOG_LEVEL: info, SHARED: common}
apps:
  - appID: a
    appDirPath: ./svc/a
    appPort: 8001
    logLevel: debug
    enableAppHealthCheck: false
    env: {SHARED: mine}`+ports+`
    command: [x]
  - appID: b
    appDirPath: ./svc/b
    schedulerHostAddress: ""`+ports+`
    command: [x]
`)
	a, b := rf.Apps[0], rf.Apps[1]
	if a.Env["SHARED"] != "mine" || a.Env["LOG_LEVEL"] != "info" || b.Env["SHARED"] != "common" {
		t.Errorf("env %v / %v", a.Env, b.Env)
	}
	if !a.EnableAppHealthCheck || a.AppHealthCheckPath != "/healthz" || a.LogLevel != "debug" || b.LogLevel != "info" {
		t.Errorf("inheritance: %+v", a.SharedRun)
	}
	if a.AppProtocol != "http" || a.MaxBodySize != "4Mi" || a.ReadBufferSize != "4Ki" || a.AppMaxConcurrency != -1 {
		t.Errorf("CLI defaults not applied: %+v", a.SharedRun)
	}
	if a.PlacementHostAddress != "localhost:50005" || *a.SchedulerHostAddress != "localhost:50006" {
		t.Errorf("control plane defaults: %q %q", a.PlacementHostAddress, *a.SchedulerHostAddress)
	}
	if *b.SchedulerHostAddress != "" {
		t.Errorf("an empty schedulerHostAddress must turn the scheduler off, got %q", *b.SchedulerHostAddress)
	}
}

// What the CLI gives the app (its variables, then the env map, which wins)
// and daprd (flags in the CLI's order).
func TestAppEnvAndDaprdArgsFollowTheCLI(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "svc/a/.keep", "")
	write(t, dir, "components/.keep", "")
	write(t, dir, "cfg.yaml", "kind: Configuration\nspec: {}\n")
	a := load(t, dir, `
version: 1
common:
  resourcesPaths: [./components]
  configFilePath: ./cfg.yaml
  apiListenAddresses: 127.0.0.1
  enableAppHealthCheck: true
  appHealthCheckPath: /healthz
  logLevel: info
apps:
  - appID: a
    appDirPath: ./svc/a
    appPort: 8001`+ports+`
    env: {FOO: bar, APP_PORT: "9999"}
    command: [x]
`).Apps[0]
	env := strings.Join(a.AppEnv(), " ")
	want := "APP_ID=a APP_CHANNEL_ADDRESS= APP_PORT=8001 DAPR_HTTP_PORT=3500 DAPR_GRPC_PORT=3600 DAPR_METRICS_PORT=9100 APP_PROTOCOL=http APP_PORT=9999 FOO=bar"
	if env != want {
		t.Errorf("app env\n got %s\nwant %s", env, want)
	}
	args := strings.Join(a.DaprdArgs(filepath.Join(dir, "extra.yaml")), " ")
	wantArgs := "--config " + filepath.Join(dir, "cfg.yaml") + " --config " + filepath.Join(dir, "extra.yaml") +
		" --app-protocol http --dapr-listen-addresses 127.0.0.1 --log-level info --app-max-concurrency -1" +
		" --placement-host-address localhost:50005 --resources-path " + filepath.Join(dir, "components") +
		" --max-body-size 4Mi --read-buffer-size 4Ki --enable-app-health-check --app-health-check-path /healthz" +
		" --scheduler-host-address localhost:50006 --app-id a --app-port 8001 --dapr-http-port 3500" +
		" --dapr-grpc-port 3600 --profile-port -1 --metrics-port 9100 --dapr-internal-grpc-port 3700"
	if args != wantArgs {
		t.Errorf("daprd args\n got %s\nwant %s", args, wantArgs)
	}
	write(t, dir, "cfg.yaml", "kind: Configuration\nspec: {mtls: {enabled: true}}\n")
	if args := strings.Join(a.DaprdArgs(), " "); !strings.HasSuffix(args, "--enable-mtls --sentry-address localhost:50001") {
		t.Errorf("mTLS in the configuration does not turn it on as the CLI does: %s", args)
	}
}

// The run file in this repository loads under these rules, and every
// component reads its paths from the sidecar's environment rather than
// relative to a working directory (daprd runs in the app's folder under
// the CLI, and in other folders in tests).
func TestRepositoryRunFile(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	rf, err := LoadRunFile(filepath.Join(root, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rf.Apps {
		if a.AppDirPath != mustAbs(t, filepath.Join(root, "services", a.AppID)) {
			t.Errorf("%s runs in %s", a.AppID, a.AppDirPath)
		}
		if a.ConfigFilePath != mustAbs(t, filepath.Join(root, "dapr-config", a.AppID+".yaml")) {
			t.Errorf("%s config %s", a.AppID, a.ConfigFilePath)
		}
	}
	files, err := readResourceDir(filepath.Join(root, "components"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, d := range f.docs {
			items, _ := d.spec()["metadata"].([]any)
			for _, it := range items {
				m := it.(map[string]any)
				name, _ := m["name"].(string)
				v, _ := m["value"].(string)
				pathLike := strings.Contains(strings.ToLower(name), "path") || strings.Contains(strings.ToLower(name), "file")
				if pathLike && v != "" && !filepath.IsAbs(v) {
					t.Errorf("%s: %s %s = %q is relative to daprd's working directory; use envRef", f.path, d.name(), name, v)
				}
			}
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLoadRunFileRejectsMistakes(t *testing.T) {
	for name, body := range map[string]string{
		"wrong version":  "version: 2\napps: [{appID: a, appDirPath: ., command: [x]}]",
		"no apps":        "version: 1\n",
		"no app dir":     "version: 1\napps: [{appID: a, command: [x]}]",
		"missing dir":    "version: 1\napps: [{appID: a, appDirPath: ./nope, command: [x]}]",
		"duplicate id":   "version: 1\napps: [{appID: a, appDirPath: ., command: [x]" + inline + "}, {appID: a, appDirPath: ., command: [y]" + inline + "}]",
		"no command":     "version: 1\napps: [{appID: a, appDirPath: .}]",
		"unset port":     "version: 1\napps: [{appID: a, appDirPath: ., command: [x]}]",
		"misspelt key":   "version: 1\napps: [{appID: a, appDirPath: ., comand: [x]" + inline + "}]",
		"profiling port": "version: 1\napps: [{appID: a, appDirPath: ., command: [x], enableProfiling: true" + inline + "}]",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadRunFile(write(t, t.TempDir(), "dapr.yaml", body)); err == nil {
				t.Error("accepted")
			}
		})
	}
}

const inline = ", daprHTTPPort: 1, daprGRPCPort: 2, daprInternalGRPCPort: 3, metricsPort: 4"

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
