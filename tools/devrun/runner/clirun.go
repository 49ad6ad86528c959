package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/daprshop/platform/daprbin"
)

// ParseDaprRun reads the flags of a single-app `dapr run [flags] -- command`
// (the Dapr CLI's, as the README shows them) into the app they start, with
// the CLI's rules for a single app: paths are relative to the folder the
// command runs in (dir), which is also daprd's and the app's working
// directory. Flags the CLI has and the runner does not need are refused, so
// a README that drifts from what is tested fails.
func ParseDaprRun(dir string, args []string) (*AppConfig, error) {
	a := &AppConfig{}
	a.AppDirPath = dir
	a.Env = map[string]string{}
	sched := ""
	strs := map[string]*string{
		"--app-id": &a.AppID, "-a": &a.AppID, "--config": &a.ConfigFilePath, "-c": &a.ConfigFilePath,
		"--app-protocol": &a.AppProtocol, "-P": &a.AppProtocol, "--log-level": &a.LogLevel,
		"--placement-host-address": &a.PlacementHostAddress, "--scheduler-host-address": &sched,
		"--app-health-check-path": &a.AppHealthCheckPath, "--dapr-listen-addresses": &a.APIListenAddresses,
		"--app-channel-address": &a.AppChannelAddress, "--max-body-size": &a.MaxBodySize,
		"--read-buffer-size": &a.ReadBufferSize,
	}
	ints := map[string]*int{
		"--app-port": &a.AppPort, "-p": &a.AppPort, "--dapr-http-port": &a.DaprHTTPPort, "-H": &a.DaprHTTPPort,
		"--dapr-grpc-port": &a.DaprGRPCPort, "-G": &a.DaprGRPCPort, "--dapr-internal-grpc-port": &a.DaprInternalGRPCPort,
		"-I": &a.DaprInternalGRPCPort, "--metrics-port": &a.MetricsPort, "-M": &a.MetricsPort,
		"--app-health-probe-interval": &a.AppHealthProbeInterval, "--app-max-concurrency": &a.AppMaxConcurrency,
	}
	bools := map[string]*bool{"--enable-app-health-check": &a.EnableAppHealthCheck, "--enable-api-logging": &a.EnableAPILogging}
	for i := 0; i < len(args); i++ {
		flag, value, hasValue := strings.Cut(args[i], "=")
		if flag == "--" {
			a.Command = args[i+1:]
			break
		}
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", flag)
			}
			i++
			return args[i], nil
		}
		switch {
		case flag == "--resources-path":
			v, err := next()
			if err != nil {
				return nil, err
			}
			a.ResourcesPaths = append(a.ResourcesPaths, v)
		case strs[flag] != nil:
			v, err := next()
			if err != nil {
				return nil, err
			}
			*strs[flag] = v
		case ints[flag] != nil:
			v, err := next()
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", flag, err)
			}
			*ints[flag] = n
		case bools[flag] != nil:
			*bools[flag] = !hasValue || value == "true"
		default:
			return nil, fmt.Errorf("dapr run flag %q is not one the runner knows", args[i])
		}
	}
	if a.AppID == "" || len(a.Command) == 0 {
		return nil, fmt.Errorf("dapr run needs --app-id and a command after --")
	}
	home, _ := os.UserHomeDir()
	if err := resolve(dir, home, &a.ConfigFilePath); err != nil {
		return nil, err
	}
	for i := range a.ResourcesPaths {
		if err := resolve(dir, home, &a.ResourcesPaths[i]); err != nil {
			return nil, err
		}
	}
	if sched != "" {
		a.SchedulerHostAddress = &sched
	}
	if err := a.setDefaults(); err != nil {
		return nil, err
	}
	return a, nil
}

// StartDaprRun starts one app and its daprd as `dapr run` would from the
// app's folder (placement and the scheduler run elsewhere), and waits until
// both are ready. It is how the README's single-service command is tested.
// isolate keeps the run's data apart as isolated runs do.
func StartDaprRun(ctx context.Context, root string, a *AppConfig, stateDir string, isolate bool, out io.Writer) (*Run, error) {
	logDir := filepath.Join(stateDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	one := &app{AppConfig: *a}
	r := &Run{root: root, stateDir: stateDir, failed: make(chan error, 1), startedAt: time.Now(), apps: []*app{one}, topology: []*app{one}}
	r.console = &console{out: out, width: len(a.AppID) + len("-dapr"), logDir: logDir}
	ok := false
	defer func() {
		if !ok {
			r.Stop()
		}
	}()
	if isolate {
		if err := r.isolateData(ctx, stateDir, 0); err != nil {
			return nil, err
		}
	}
	if err := r.trust(); err != nil {
		return nil, err
	}
	// As the Dapr CLI does: every sidecar and app gets the shell's tokens.
	r.tokens = map[string]Tokens{a.AppID: {API: os.Getenv("DAPR_API_TOKEN"), App: os.Getenv("APP_API_TOKEN")}}
	var err error
	if r.daprBin, err = daprbin.Dir(root); err != nil {
		return nil, err
	}
	if err := r.build(ctx, filepath.Join(stateDir, "bin"), nil); err != nil {
		return nil, err
	}
	if err := r.startApps(ctx); err != nil {
		return nil, err
	}
	go r.watch()
	if err := r.waitReady(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	ok = true
	return r, nil
}
