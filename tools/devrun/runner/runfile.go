// Package runner brings up the local topology described by dapr.yaml (the
// Dapr CLI's multi-app run file) without the Dapr CLI: placement, scheduler,
// then every app beside its daprd, with prefixed logs, readiness waits and a
// clean stop. `make run`, the Tiltfile and the end-to-end tests all use it.
//
// It reads the run file with the Dapr CLI's own rules (dapr/cli
// pkg/runfileconfig and pkg/standalone), so that `make run` and
// `dapr run -f .` start the same processes the same way:
//   - `common` paths resolve against the run file's folder; an app's own paths
//     (configFilePath, resourcesPath(s), runtimePath) against its appDirPath;
//   - resources: the app's resourcesPaths, else <appDirPath>/.dapr/resources,
//     else common.resourcesPaths, else ~/.dapr/components; the config file:
//     the app's, else <appDirPath>/.dapr/config.yaml, else common's, else
//     ~/.dapr/config.yaml;
//   - a shared setting the app leaves unset is taken from common; env maps
//     are merged, the app's value winning;
//   - daprd and the app run with appDirPath as their working directory; the
//     app gets the CLI's variables (APP_ID, APP_CHANNEL_ADDRESS, APP_PORT,
//     DAPR_HTTP_PORT, DAPR_GRPC_PORT, DAPR_METRICS_PORT, APP_PROTOCOL) and the
//     env map; daprd gets the runner's own environment, not the env map.
//
// runfile_test.go pins each rule.
package runner

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// RunFile is a multi-app run file.
type RunFile struct {
	Version int         `yaml:"version"`
	Name    string      `yaml:"name"`
	Common  SharedRun   `yaml:"common"`
	Apps    []AppConfig `yaml:"apps"`
}

// SharedRun holds the settings `common` may give every app (the CLI's
// SharedRunConfig). Keys the runner has no use for (log destinations) are
// accepted so that every valid run file loads.
type SharedRun struct {
	ConfigFilePath         string            `yaml:"configFilePath"`
	AppProtocol            string            `yaml:"appProtocol"`
	APIListenAddresses     string            `yaml:"apiListenAddresses"`
	EnableProfiling        bool              `yaml:"enableProfiling"`
	LogLevel               string            `yaml:"logLevel"`
	AppMaxConcurrency      int               `yaml:"appMaxConcurrency"`
	PlacementHostAddress   string            `yaml:"placementHostAddress"`
	ResourcesPath          string            `yaml:"resourcesPath"`
	ResourcesPaths         []string          `yaml:"resourcesPaths"`
	AppSSL                 bool              `yaml:"appSSL"`
	MaxBodySize            string            `yaml:"maxBodySize"`
	ReadBufferSize         string            `yaml:"readBufferSize"`
	EnableAppHealthCheck   bool              `yaml:"enableAppHealthCheck"`
	AppHealthCheckPath     string            `yaml:"appHealthCheckPath"`
	AppHealthProbeInterval int               `yaml:"appHealthProbeInterval"`
	AppHealthProbeTimeout  int               `yaml:"appHealthProbeTimeout"`
	AppHealthThreshold     int               `yaml:"appHealthThreshold"`
	EnableAPILogging       bool              `yaml:"enableApiLogging"`
	RuntimePath            string            `yaml:"runtimePath"`
	Env                    map[string]string `yaml:"env"`
	DaprdLogDestination    string            `yaml:"daprdLogDestination"`
	AppLogDestination      string            `yaml:"appLogDestination"`
	SchedulerHostAddress   *string           `yaml:"schedulerHostAddress"`
}

// AppConfig is one app of the run file, with common applied once loaded.
type AppConfig struct {
	SharedRun            `yaml:",inline"`
	AppID                string   `yaml:"appID"`
	AppDirPath           string   `yaml:"appDirPath"`
	AppChannelAddress    string   `yaml:"appChannelAddress"`
	AppPort              int      `yaml:"appPort"`
	DaprHTTPPort         int      `yaml:"daprHTTPPort"`
	DaprGRPCPort         int      `yaml:"daprGRPCPort"`
	DaprInternalGRPCPort int      `yaml:"daprInternalGRPCPort"`
	MetricsPort          int      `yaml:"metricsPort"`
	ProfilePort          int      `yaml:"profilePort"`
	UnixDomainSocket     string   `yaml:"unixDomainSocket"`
	Command              []string `yaml:"command"`
	// SentryAddress is where daprd gets its certificate when the
	// configuration turns mTLS on; not a run-file key: the CLI always uses
	// localhost:50001, and the runner sets it for runs on other ports.
	SentryAddress string `yaml:"-"`
	// Kubernetes-only keys of the CLI (dapr run -k); accepted, not used here.
	ContainerImage           string `yaml:"containerImage"`
	ContainerImagePullPolicy string `yaml:"containerImagePullPolicy"`
	CreateService            bool   `yaml:"createService"`
}

// Defaults of the CLI for what a run file leaves unset.
const (
	defaultPlacementPort = "50005"
	defaultSchedulerPort = "50006"
	defaultMaxBodySize   = "4Mi"
	defaultReadBuffer    = "4Ki"
)

// LoadRunFile reads path with the CLI's rules (see the package comment).
// Unlike the CLI it refuses unknown keys, so a misspelt key fails here
// instead of being ignored; every key the CLI knows is accepted. Ports the
// file leaves unset are refused too: the CLI would pick free ones, which
// nothing else could then find.
func LoadRunFile(path string) (*RunFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rf RunFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if rf.Version != 1 {
		return nil, fmt.Errorf("%s: version %d is not supported (want 1)", path, rf.Version)
	}
	if len(rf.Apps) == 0 {
		return nil, fmt.Errorf("%s: no apps", path)
	}
	base, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	home, _ := os.UserHomeDir()
	c := &rf.Common
	if err := resolve(base, home, &c.ConfigFilePath, &c.ResourcesPath, &c.RuntimePath); err != nil {
		return nil, fmt.Errorf("%s: common: %w", path, err)
	}
	for i := range c.ResourcesPaths {
		if err := resolve(base, home, &c.ResourcesPaths[i]); err != nil {
			return nil, fmt.Errorf("%s: common: %w", path, err)
		}
	}
	if strings.TrimSpace(c.ResourcesPath) != "" {
		c.ResourcesPaths = append(c.ResourcesPaths, c.ResourcesPath)
	}

	seen := map[string]bool{}
	for i := range rf.Apps {
		a := &rf.Apps[i]
		if a.AppDirPath == "" {
			return nil, fmt.Errorf("%s: app %d has no appDirPath", path, i)
		}
		if err := resolve(base, home, &a.AppDirPath); err != nil {
			return nil, fmt.Errorf("%s: app %d: %w", path, i, err)
		}
		if err := resolve(a.AppDirPath, home, &a.ConfigFilePath, &a.ResourcesPath, &a.RuntimePath); err != nil {
			return nil, fmt.Errorf("%s: app %d: %w", path, i, err)
		}
		for j := range a.ResourcesPaths {
			if err := resolve(a.AppDirPath, home, &a.ResourcesPaths[j]); err != nil {
				return nil, fmt.Errorf("%s: app %d: %w", path, i, err)
			}
		}
		if strings.TrimSpace(a.ResourcesPath) != "" {
			a.ResourcesPaths = append(a.ResourcesPaths, a.ResourcesPath)
		}
		a.resolveResourcesAndConfig(*c, home)
		a.inherit(*c)
		if a.AppID == "" {
			a.AppID = filepath.Base(a.AppDirPath)
		}
		if seen[a.AppID] {
			return nil, fmt.Errorf("%s: appID %q appears twice", path, a.AppID)
		}
		seen[a.AppID] = true
		if len(a.Command) == 0 {
			return nil, fmt.Errorf("%s: app %s has no command", path, a.AppID)
		}
		if err := a.setDefaults(); err != nil {
			return nil, fmt.Errorf("%s: app %s: %w", path, a.AppID, err)
		}
	}
	return &rf, nil
}

// resolve makes each non-empty path absolute against base (after expanding a
// leading ~) and checks that it exists, as the CLI does.
func resolve(base, home string, paths ...*string) error {
	for _, p := range paths {
		if *p == "" {
			continue
		}
		if *p == "~" || strings.HasPrefix(*p, "~/") {
			*p = filepath.Join(home, strings.TrimPrefix(*p, "~"))
		}
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
		if _, err := os.Stat(*p); err != nil {
			return fmt.Errorf("path %s: %w", *p, err)
		}
	}
	return nil
}

// resolveResourcesAndConfig applies the CLI's precedence for resources and
// the configuration file.
func (a *AppConfig) resolveResourcesAndConfig(c SharedRun, home string) {
	if len(a.ResourcesPaths) == 0 {
		local := filepath.Join(a.AppDirPath, ".dapr", "resources")
		switch {
		case exists(local):
			a.ResourcesPaths = []string{local}
		case len(c.ResourcesPaths) > 0:
			a.ResourcesPaths = append([]string(nil), c.ResourcesPaths...)
		default:
			a.ResourcesPaths = []string{filepath.Join(home, ".dapr", "components")}
		}
	}
	if a.ConfigFilePath == "" {
		local := filepath.Join(a.AppDirPath, ".dapr", "config.yaml")
		switch {
		case exists(local):
			a.ConfigFilePath = local
		case strings.TrimSpace(c.ConfigFilePath) != "":
			a.ConfigFilePath = c.ConfigFilePath
		default:
			a.ConfigFilePath = filepath.Join(home, ".dapr", "config.yaml")
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// inherit gives a every shared setting it leaves at its zero value from
// common (booleans included: an app cannot turn off what common turns on),
// then merges the env maps with the app's values winning.
func (a *AppConfig) inherit(c SharedRun) {
	s := &a.SharedRun
	orStr := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	orInt := func(dst *int, v int) {
		if *dst == 0 {
			*dst = v
		}
	}
	orBool := func(dst *bool, v bool) { *dst = *dst || v }
	orStr(&s.ConfigFilePath, c.ConfigFilePath)
	orStr(&s.AppProtocol, c.AppProtocol)
	orStr(&s.APIListenAddresses, c.APIListenAddresses)
	orBool(&s.EnableProfiling, c.EnableProfiling)
	orStr(&s.LogLevel, c.LogLevel)
	orInt(&s.AppMaxConcurrency, c.AppMaxConcurrency)
	orStr(&s.PlacementHostAddress, c.PlacementHostAddress)
	orBool(&s.AppSSL, c.AppSSL)
	orStr(&s.MaxBodySize, c.MaxBodySize)
	orStr(&s.ReadBufferSize, c.ReadBufferSize)
	orBool(&s.EnableAppHealthCheck, c.EnableAppHealthCheck)
	orStr(&s.AppHealthCheckPath, c.AppHealthCheckPath)
	orInt(&s.AppHealthProbeInterval, c.AppHealthProbeInterval)
	orInt(&s.AppHealthProbeTimeout, c.AppHealthProbeTimeout)
	orInt(&s.AppHealthThreshold, c.AppHealthThreshold)
	orBool(&s.EnableAPILogging, c.EnableAPILogging)
	orStr(&s.RuntimePath, c.RuntimePath)
	orStr(&s.DaprdLogDestination, c.DaprdLogDestination)
	orStr(&s.AppLogDestination, c.AppLogDestination)
	if s.SchedulerHostAddress == nil {
		s.SchedulerHostAddress = c.SchedulerHostAddress
	}
	env := make(map[string]string, len(c.Env)+len(s.Env))
	for k, v := range c.Env {
		env[k] = v
	}
	for k, v := range s.Env {
		env[k] = v
	}
	s.Env = env
}

// setDefaults applies the CLI's defaults and address rules.
func (a *AppConfig) setDefaults() error {
	if a.AppProtocol == "" {
		a.AppProtocol = "http"
	}
	if a.MaxBodySize == "" {
		a.MaxBodySize = defaultMaxBodySize
	}
	if a.ReadBufferSize == "" {
		a.ReadBufferSize = defaultReadBuffer
	}
	if a.AppMaxConcurrency < 1 {
		a.AppMaxConcurrency = -1
	}
	if a.AppPort < 0 {
		a.AppPort = 0
	}
	if a.ProfilePort == 0 {
		a.ProfilePort = -1
	}
	if a.EnableProfiling && a.ProfilePort <= 0 {
		return fmt.Errorf("enableProfiling needs profilePort (the Dapr CLI would pick a free port that nothing else could find)")
	}
	a.PlacementHostAddress = withPort(a.PlacementHostAddress, "localhost", defaultPlacementPort)
	// The CLI defaults the scheduler to localhost for runtimes from 1.15 on;
	// an explicit empty string turns it off.
	sched := "localhost"
	if a.SchedulerHostAddress != nil {
		sched = *a.SchedulerHostAddress
	}
	if strings.TrimSpace(sched) != "" {
		sched = withPort(sched, "localhost", defaultSchedulerPort)
	}
	a.SchedulerHostAddress = &sched
	for name, port := range map[string]int{
		"daprHTTPPort": a.DaprHTTPPort, "daprGRPCPort": a.DaprGRPCPort,
		"daprInternalGRPCPort": a.DaprInternalGRPCPort, "metricsPort": a.MetricsPort,
	} {
		if port <= 0 {
			return fmt.Errorf("%s is not set (the Dapr CLI would pick a free port that nothing else could find)", name)
		}
	}
	return nil
}

// withPort adds the default port to an address without one.
func withPort(addr, defHost, defPort string) string {
	if strings.TrimSpace(addr) == "" {
		addr = defHost
	}
	if !strings.Contains(addr, ":") {
		addr += ":" + defPort
	}
	return addr
}

// AppEnv is what the CLI adds to an app's environment, in its order: its
// own variables, then the run file's env map (which wins on a clash).
func (a *AppConfig) AppEnv() []string {
	env := []string{"APP_ID=" + a.AppID, "APP_CHANNEL_ADDRESS=" + a.AppChannelAddress}
	for _, kv := range []struct {
		name string
		port int
	}{{"APP_PORT", a.AppPort}, {"DAPR_HTTP_PORT", a.DaprHTTPPort}, {"DAPR_GRPC_PORT", a.DaprGRPCPort}, {"DAPR_METRICS_PORT", a.MetricsPort}} {
		if kv.port > 0 {
			env = append(env, kv.name+"="+strconv.Itoa(kv.port))
		}
	}
	if p := appProtocolEnv(a.AppProtocol, a.AppSSL); p != "" {
		env = append(env, "APP_PROTOCOL="+p)
	}
	keys := make([]string, 0, len(a.Env))
	for k := range a.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+a.Env[k])
	}
	return env
}

func appProtocolEnv(protocol string, ssl bool) string {
	switch p := strings.ToLower(protocol); p {
	case "grpcs", "https", "h2c":
		return p
	case "http", "":
		if ssl {
			return "https"
		}
		return "http"
	case "grpc":
		if ssl {
			return "grpcs"
		}
		return "grpc"
	default:
		return ""
	}
}

// DaprdArgs are the flags the CLI gives daprd for this app, in the CLI's
// order. configs are extra configuration files layered on the app's own
// (daprd applies them in order in standalone mode).
func (a *AppConfig) DaprdArgs(extraConfigs ...string) []string {
	itoa := strconv.Itoa
	var args []string
	str := func(flag, v string) {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	flag := func(name string, on bool) {
		if on {
			args = append(args, name)
		}
	}
	nonZero := func(name string, v int) {
		if v != 0 {
			args = append(args, name, itoa(v))
		}
	}
	str("--config", a.ConfigFilePath)
	for _, c := range extraConfigs {
		args = append(args, "--config", c)
	}
	str("--app-protocol", a.AppProtocol)
	str("--dapr-listen-addresses", a.APIListenAddresses)
	flag("--enable-profiling", a.EnableProfiling)
	str("--log-level", a.LogLevel)
	args = append(args, "--app-max-concurrency", itoa(a.AppMaxConcurrency))
	str("--placement-host-address", a.PlacementHostAddress)
	for _, p := range a.ResourcesPaths {
		args = append(args, "--resources-path", p)
	}
	flag("--app-ssl", a.AppSSL)
	str("--max-body-size", a.MaxBodySize)
	str("--read-buffer-size", a.ReadBufferSize)
	flag("--enable-app-health-check", a.EnableAppHealthCheck)
	str("--app-health-check-path", a.AppHealthCheckPath)
	nonZero("--app-health-probe-interval", a.AppHealthProbeInterval)
	nonZero("--app-health-probe-timeout", a.AppHealthProbeTimeout)
	nonZero("--app-health-threshold", a.AppHealthThreshold)
	flag("--enable-api-logging", a.EnableAPILogging)
	if a.SchedulerHostAddress != nil {
		str("--scheduler-host-address", *a.SchedulerHostAddress)
	}
	args = append(args, "--app-id", a.AppID)
	if a.AppChannelAddress != "127.0.0.1" {
		str("--app-channel-address", a.AppChannelAddress)
	}
	args = append(args, "--app-port", itoa(a.AppPort),
		"--dapr-http-port", itoa(a.DaprHTTPPort), "--dapr-grpc-port", itoa(a.DaprGRPCPort))
	args = append(args, "--profile-port", itoa(a.ProfilePort))
	args = append(args, "--metrics-port", itoa(a.MetricsPort))
	str("--unix-domain-socket", a.UnixDomainSocket)
	args = append(args, "--dapr-internal-grpc-port", itoa(a.DaprInternalGRPCPort))
	// The CLI turns on mTLS, with sentry where `dapr init` runs it, when the
	// configuration file asks for it.
	if mtlsEnabled(a.ConfigFilePath) {
		sentry := a.SentryAddress
		if sentry == "" {
			sentry = "localhost:50001"
		}
		args = append(args, "--enable-mtls", "--sentry-address", sentry)
	}
	return args
}

// mtlsEnabled reports whether a Configuration file sets spec.mtls.enabled.
func mtlsEnabled(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var c struct {
		Spec struct {
			MTLS struct {
				Enabled bool `yaml:"enabled"`
			} `yaml:"mtls"`
		} `yaml:"spec"`
	}
	return yaml.Unmarshal(b, &c) == nil && c.Spec.MTLS.Enabled
}

// goRunPackage returns the package of a `go run <pkg>` command, if it is one.
func goRunPackage(cmd []string) (string, []string, bool) {
	if len(cmd) >= 3 && cmd[0] == "go" && cmd[1] == "run" && !strings.HasPrefix(cmd[2], "-") {
		return cmd[2], cmd[3:], true
	}
	return "", nil, false
}
