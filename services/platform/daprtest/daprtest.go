// Package daprtest starts real daprd processes for integration tests: each
// sidecar gets free ports and the resources the test gives it, is waited on
// until healthy, is stopped when the test ends, and its log is printed when
// the test fails.
package daprtest

import (
	"cmp"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daprshop/platform/daprbin"
	"github.com/daprshop/platform/daprconfig"
	"github.com/daprshop/platform/freeport"
)

// Options describe one sidecar.
type Options struct {
	AppID string
	// AppPort is the port of the app the sidecar calls; 0 runs a sidecar with no app.
	AppPort int
	// Resources are YAML documents (components, subscriptions, resiliency)
	// written to a fresh resources folder.
	Resources []string
	// ResourcesDirs are existing folders to load as well (for example the
	// repository's components/).
	ResourcesDirs []string
	// Config is the YAML of a Dapr Configuration; empty means none.
	Config string
	// Env is added to daprd's environment (for example APP_API_TOKEN=...).
	Env []string
	// PlacementAddress and SchedulerAddress connect the sidecar to a control
	// plane for actors, workflows and jobs; empty leaves them off.
	PlacementAddress string
	SchedulerAddress string
	// WaitForApp makes Start wait until the sidecar also reports the app healthy.
	WaitForApp bool
	// Sentry, when set, gives the sidecar its certificate: mutual TLS with
	// the other sidecars of the test, and the Configuration's access control
	// applies by caller identity.
	Sentry *Sentry
	// HTTPPort and GRPCPort fix the sidecar's API ports (0 picks free ones),
	// for an app that must be told them before the sidecar starts.
	HTTPPort, GRPCPort int
}

// Sidecar is a running daprd.
type Sidecar struct {
	AppID    string
	HTTPPort int
	GRPCPort int
	LogPath  string
}

// HTTPBase is the sidecar's HTTP API root.
func (s *Sidecar) HTTPBase() string { return "http://127.0.0.1:" + strconv.Itoa(s.HTTPPort) }

// GRPCAddr is the sidecar's gRPC API address.
func (s *Sidecar) GRPCAddr() string { return "127.0.0.1:" + strconv.Itoa(s.GRPCPort) }

// Start runs daprd with opts and waits until its API is up. It is stopped,
// and its log shown on failure, by t.Cleanup.
func Start(t testing.TB, opts Options) *Sidecar {
	t.Helper()
	dir := t.TempDir()
	resDir := filepath.Join(dir, "resources")
	if err := os.MkdirAll(resDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, doc := range opts.Resources {
		if err := os.WriteFile(filepath.Join(resDir, fmt.Sprintf("r%02d.yaml", i)), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := &Sidecar{
		AppID:    opts.AppID,
		HTTPPort: cmp.Or(opts.HTTPPort, FreePort(t)),
		GRPCPort: cmp.Or(opts.GRPCPort, FreePort(t)),
		LogPath:  filepath.Join(dir, "daprd.log"),
	}
	args := []string{
		"--app-id", opts.AppID,
		"--mode", "standalone",
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-http-port", strconv.Itoa(s.HTTPPort),
		"--dapr-grpc-port", strconv.Itoa(s.GRPCPort),
		"--dapr-internal-grpc-port", strconv.Itoa(FreePort(t)),
		"--metrics-port", strconv.Itoa(FreePort(t)),
		"--resources-path", resDir,
		"--placement-host-address", opts.PlacementAddress,
		"--scheduler-host-address", opts.SchedulerAddress,
		"--log-level", "info",
	}
	for _, d := range opts.ResourcesDirs {
		args = append(args, "--resources-path", d)
	}
	// Every sidecar of this test process resolves app IDs through one SQLite
	// file of the process's own: with mDNS, tests running in parallel in
	// other packages (or `make run`) would answer for the same app IDs.
	config, err := daprconfig.WithSQLiteNameResolution([]byte(opts.Config), opts.AppID, nameResolutionDB())
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, config, 0o644); err != nil {
		t.Fatal(err)
	}
	args = append(args, "--config", cfgPath)
	if opts.AppPort > 0 {
		args = append(args, "--app-port", strconv.Itoa(opts.AppPort), "--app-protocol", "http")
	}
	tlsArgs, tlsEnv := opts.Sentry.daprdFlags()
	args = append(args, tlsArgs...)
	stop, exited := startProcess(t, "daprd "+opts.AppID, DaprdPath(t), args, append(opts.Env, tlsEnv...), s.LogPath)
	t.Cleanup(stop)

	path := "/v1.0/healthz/outbound"
	if opts.WaitForApp {
		path = "/v1.0/healthz"
	}
	if err := waitHealthy(s.HTTPBase()+path, 60*time.Second, exited); err != nil {
		t.Fatalf("daprd %s did not become healthy: %v\n%s", opts.AppID, err, tail(s.LogPath, 60))
	}
	return s
}

// waitHealthy is WaitHTTP that gives up at once if the process exits.
func waitHealthy(url string, timeout time.Duration, exited <-chan struct{}) error {
	result := make(chan error, 1)
	go func() { result <- WaitHTTP(url, timeout) }()
	select {
	case err := <-result:
		return err
	case <-exited:
		return fmt.Errorf("the process exited")
	}
}

// nameResolutionDB is the name-resolution file of this test process.
func nameResolutionDB() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("daprtest-names-%d.db", os.Getpid()))
}

// startProcess runs a command with its output in logPath and returns a stop
// function: SIGTERM, then SIGKILL after 10s. On a failed test it prints the
// log's last lines. Pdeathsig kills the process if the test binary dies first.
func startProcess(t testing.TB, name, bin string, args, env []string, logPath string) (stop func(), exited <-chan struct{}) {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logFile.Close()
		if t.Failed() {
			t.Logf("--- last lines of %s (%s) ---\n%s", name, logPath, tail(logPath, 80))
		}
	}, done
}

// WaitHTTP polls url until it answers 2xx or timeout passes.
func WaitHTTP(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: not healthy after %s (last: %s)", url, timeout, last)
}

// FreePort returns a TCP port that was free a moment ago (see package freeport).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// RepoRoot walks up from the working directory to the folder holding go.work.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("daprtest: no go.work above the working directory")
		}
		dir = parent
	}
}

// DaprdPath is $DAPRD_PATH, or the daprd that `make dapr` built for the
// version pinned in tools/dapr/go.mod.
func DaprdPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("DAPRD_PATH"); p != "" {
		return p
	}
	dir, err := daprbin.Dir(RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "daprd")
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
