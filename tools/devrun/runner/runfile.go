// Package runner brings up the local topology described by dapr.yaml (the
// Dapr CLI's multi-app run file) without the Dapr CLI: placement, scheduler,
// then every app beside its daprd, with prefixed logs, readiness waits and a
// clean stop. `make run`, the Tiltfile and the end-to-end tests all use it.
package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// RunFile is the subset of the multi-app run format the runner understands.
// Unknown keys are ignored, as the Dapr CLI does.
type RunFile struct {
	Version int       `yaml:"version"`
	Common  AppConfig `yaml:"common"`
	Apps    []AppConfig
}

// AppConfig is one app entry, or the common section that apps inherit from.
type AppConfig struct {
	AppID                  string            `yaml:"appID"`
	AppDirPath             string            `yaml:"appDirPath"`
	AppPort                int               `yaml:"appPort"`
	AppProtocol            string            `yaml:"appProtocol"`
	DaprHTTPPort           int               `yaml:"daprHTTPPort"`
	DaprGRPCPort           int               `yaml:"daprGRPCPort"`
	DaprInternalGRPCPort   int               `yaml:"daprInternalGRPCPort"`
	MetricsPort            int               `yaml:"metricsPort"`
	ResourcesPaths         []string          `yaml:"resourcesPaths"`
	ConfigFilePath         string            `yaml:"configFilePath"`
	EnableAppHealthCheck   *bool             `yaml:"enableAppHealthCheck"`
	AppHealthCheckPath     string            `yaml:"appHealthCheckPath"`
	AppHealthProbeInterval int               `yaml:"appHealthProbeInterval"`
	LogLevel               string            `yaml:"logLevel"`
	PlacementHostAddress   string            `yaml:"placementHostAddress"`
	SchedulerHostAddress   string            `yaml:"schedulerHostAddress"`
	Env                    map[string]string `yaml:"env"`
	Command                []string          `yaml:"command"`
}

// LoadRunFile reads path and returns its apps with the common section
// applied and every path made absolute (relative to the run file's folder).
func LoadRunFile(path string) (*RunFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rf RunFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
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
	seen := map[string]bool{}
	for i := range rf.Apps {
		a := &rf.Apps[i]
		a.inherit(rf.Common)
		if a.AppID == "" {
			return nil, fmt.Errorf("%s: app %d has no appID", path, i)
		}
		if seen[a.AppID] {
			return nil, fmt.Errorf("%s: appID %q appears twice", path, a.AppID)
		}
		seen[a.AppID] = true
		if len(a.Command) == 0 {
			return nil, fmt.Errorf("%s: app %s has no command", path, a.AppID)
		}
		a.AppDirPath = abs(base, a.AppDirPath)
		a.ConfigFilePath = absOpt(base, a.ConfigFilePath)
		for j, p := range a.ResourcesPaths {
			a.ResourcesPaths[j] = abs(base, p)
		}
	}
	return &rf, nil
}

// inherit fills a's unset fields from common; env maps are merged, app wins.
func (a *AppConfig) inherit(c AppConfig) {
	setStr := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	setStr(&a.AppProtocol, c.AppProtocol)
	setStr(&a.ConfigFilePath, c.ConfigFilePath)
	setStr(&a.AppHealthCheckPath, c.AppHealthCheckPath)
	setStr(&a.LogLevel, c.LogLevel)
	setStr(&a.PlacementHostAddress, c.PlacementHostAddress)
	setStr(&a.SchedulerHostAddress, c.SchedulerHostAddress)
	if len(a.ResourcesPaths) == 0 {
		a.ResourcesPaths = append([]string(nil), c.ResourcesPaths...)
	}
	if a.EnableAppHealthCheck == nil {
		a.EnableAppHealthCheck = c.EnableAppHealthCheck
	}
	if a.AppHealthProbeInterval == 0 {
		a.AppHealthProbeInterval = c.AppHealthProbeInterval
	}
	env := map[string]string{}
	for k, v := range c.Env {
		env[k] = v
	}
	for k, v := range a.Env {
		env[k] = v
	}
	a.Env = env
	if a.AppProtocol == "" {
		a.AppProtocol = "http"
	}
}

func abs(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

func absOpt(base, p string) string {
	if p == "" {
		return ""
	}
	return abs(base, p)
}

// goRunPackage returns the package of a `go run <pkg>` command, if it is one.
func goRunPackage(cmd []string) (string, []string, bool) {
	if len(cmd) >= 3 && cmd[0] == "go" && cmd[1] == "run" && !strings.HasPrefix(cmd[2], "-") {
		return cmd[2], cmd[3:], true
	}
	return "", nil, false
}
