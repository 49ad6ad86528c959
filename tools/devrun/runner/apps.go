package runner

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/daprshop/platform/hostlock"
)

// BuildApps compiles the `go run <pkg>` commands of the run file's apps into
// binDir once, so that several runs (one per component profile) can share
// the very same binaries (Options.Binaries). It returns app ID -> binary.
func BuildApps(ctx context.Context, runFile, binDir string, out io.Writer) (map[string]string, error) {
	rf, err := LoadRunFile(runFile)
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	for _, a := range rf.Apps {
		pkg, _, ok := goRunPackage(a.Command)
		if !ok {
			continue // not Go: each run prepares it (build, NPMInstall)
		}
		bin, err := goBuild(ctx, a.AppDirPath, pkg, filepath.Join(binDir, a.AppID))
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", a.AppID, err)
		}
		fmt.Fprintf(out, "built %s\n", a.AppID)
		bins[a.AppID] = bin
	}
	return bins, nil
}

// FileSHA256 is the hex SHA-256 of a file (to show which binary ran).
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func goBuild(ctx context.Context, dir, pkg, out string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, b)
	}
	return out, nil
}

// NPMInstall installs a Node.js app's dependencies from its committed
// lockfile (`npm ci`: exactly the locked versions, nothing global) when
// the app's folder has a package-lock.json and node_modules was not
// installed from this very lockfile. A stamp of the lockfile's hash in
// node_modules makes the next start skip it.
func NPMInstall(ctx context.Context, dir string, out io.Writer) error {
	lock := filepath.Join(dir, "package-lock.json")
	sum, err := FileSHA256(lock)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	// Runs started side by side (the test suites) install one at a time.
	release, err := hostlock.Wait(ctx, "npm-"+sum[:16])
	if err != nil {
		return err
	}
	defer release()
	stamp := filepath.Join(dir, "node_modules", ".daprshop-lock-sha256")
	if b, err := os.ReadFile(stamp); err == nil && string(b) == sum {
		return nil
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", dir, err, b)
	}
	fmt.Fprintf(out, "npm ci in %s in %.1fs\n", filepath.Base(dir), time.Since(start).Seconds())
	return os.WriteFile(stamp, []byte(sum), 0o644)
}

// build compiles `go run <pkg>` commands into binaries (unless prebuilt),
// so that a stop signal reaches the service itself rather than the go tool.
func (r *Run) build(ctx context.Context, binDir string, prebuilt map[string]string) error {
	for _, a := range r.apps {
		pkg, rest, ok := goRunPackage(a.Command)
		if !ok {
			a.bin, a.args = a.Command[0], a.Command[1:]
			if err := NPMInstall(ctx, a.AppDirPath, r.console.out); err != nil {
				return fmt.Errorf("%s: %w", a.AppID, err)
			}
			continue
		}
		if bin, ok := prebuilt[a.AppID]; ok {
			a.bin, a.args = bin, rest
			continue
		}
		start := time.Now()
		bin, err := goBuild(ctx, a.AppDirPath, pkg, filepath.Join(binDir, a.AppID))
		if err != nil {
			return fmt.Errorf("build %s: %w", a.AppID, err)
		}
		r.console.printf("built %s in %.1fs\n", a.AppID, time.Since(start).Seconds())
		a.bin, a.args = bin, rest
		if prebuilt == nil {
			prebuilt = map[string]string{}
		}
		prebuilt[a.AppID] = bin // its replicas run the same binary
	}
	return nil
}

func (r *Run) startApps(ctx context.Context) error {
	if len(r.apps) == 0 {
		return nil
	}
	// Sidecars and apps are separate tiers so that Stop stops apps first.
	r.tiers = append(r.tiers, nil, nil)
	sidecars, apps := len(r.tiers)-2, len(r.tiers)-1
	for i, a := range r.apps {
		p, d, err := r.startApp(a)
		if err != nil {
			return err
		}
		r.tiers[apps] = append(r.tiers[apps], p)
		r.tiers[sidecars] = append(r.tiers[sidecars], d)
		// Every sidecar creates the SQLite name-resolution file's tables as
		// it starts, and SQLite refuses a second schema change at once
		// without waiting (SQLITE_BUSY, whatever busyTimeout says): a
		// sidecar that lost ran with no resolver, its app unreachable. The
		// first one creates them alone; the others find them made.
		if i == 0 && r.sqliteNames {
			if err := r.waitFor(ctx, time.Minute, r.appChecks(a)[:1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// startApp starts an app and its daprd the way the Dapr CLI does: both in
// the app's folder; the app with the CLI's variables and the env map, daprd
// with the runner's environment.
func (r *Run) startApp(a *app) (*process, *process, error) {
	p, err := r.startAppProcess(a)
	if err != nil {
		return nil, nil, err
	}
	d, err := r.startSidecar(a)
	if err != nil {
		p.stop(5 * time.Second)
		return nil, nil, err
	}
	return p, d, nil
}

func (r *Run) color(a *app) string { return palette[slices.Index(r.apps, a)%len(palette)] }

// The sidecar presents APP_API_TOKEN on every call into its app, which
// refuses calls without it (sidecar.RequireAppToken); the app presents
// DAPR_API_TOKEN on every call to its sidecar, which refuses calls
// without it. Each app has its own pair.
func (r *Run) tokenEnv(a *app) []string {
	t := r.tokens[a.AppID]
	return []string{"DAPR_API_TOKEN=" + t.API, "APP_API_TOKEN=" + t.App}
}

func (r *Run) startAppProcess(a *app) (*process, error) {
	bin, args := a.bin, a.args
	if a.ns != nil {
		bin, args = a.ns.wrap(bin, args)
	}
	return r.console.start(a.name(), r.color(a), a.AppDirPath, bin, args, append(a.AppEnv(), r.tokenEnv(a)...), showAll)
}

func (r *Run) startSidecar(a *app) (*process, error) {
	// Beyond the CLI's flags: the sidecars' internal gRPC (sidecar to
	// sidecar) and metrics listen on loopback too. The run file has no keys
	// for these, so under the Dapr CLI they listen on every interface.
	args := append(a.DaprdArgs(r.extraConfigs()...), "--dapr-internal-grpc-listen-address", a.host(), "--metrics-listen-address", "127.0.0.1")
	env := append(slices.Clone(r.sidecarEnv), r.tokenEnv(a)...)
	env = append(env, a.healthEnv()...)
	if a.announce != "" {
		env = append(env, "DAPR_HOST_IP="+a.announce) // the last one counts
	}
	bin := filepath.Join(r.daprBin, "daprd")
	if a.ns != nil {
		bin, args = a.ns.wrap(bin, args)
	}
	return r.console.start(a.name()+"-dapr", r.color(a), a.AppDirPath, bin, args, env, daprdNotable)
}

// healthEnv tells a sidecar where its own and its app's health endpoints
// are: the consul profile's Configuration registers each replica with
// both as Consul checks (daprd expands ${...} in Configuration files).
func (a *app) healthEnv() []string {
	path := cmp.Or(a.AppHealthCheckPath, "/healthz")
	return []string{
		EnvAppHealthURL + "=" + fmt.Sprintf("http://%s:%d%s", a.host(), a.AppPort, path),
		EnvSidecarHealthURL + "=" + fmt.Sprintf("http://%s:%d/v1.0/healthz?appid=%s", a.host(), a.DaprHTTPPort, a.AppID),
	}
}

func (r *Run) appChecks(a *app) []check {
	return []check{
		{name: a.name() + "-dapr", url: fmt.Sprintf("http://%s:%d/v1.0/healthz", a.host(), a.DaprHTTPPort)},
		{name: a.name(), url: fmt.Sprintf("http://%s:%d/readyz", a.host(), a.readyPort())},
	}
}

// readyPort is where the app answers /readyz: its admin port when it has
// one (ADMIN_PORT, the gateway's), else its own.
func (a *app) readyPort() int {
	if p, err := strconv.Atoi(a.Env["ADMIN_PORT"]); err == nil && p > 0 {
		return p
	}
	return a.AppPort
}

// Kill crashes an app and its sidecar with SIGKILL, as a power cut would;
// it is not reported as a failure. Restart brings them back. A replica is
// named by its process name ("product-2").
func (r *Run) Kill(appID string) error {
	found := false
	for _, name := range []string{appID, appID + "-dapr"} {
		if p := r.process(name); p != nil {
			found = true
			p.kill()
		}
	}
	if !found {
		return fmt.Errorf("no running app %q", appID)
	}
	return nil
}

// Crash kills one process of the run with SIGKILL, by name: an app
// ("order", "product-2"), a sidecar ("order-dapr"), or a process of the
// control plane ("placement", "scheduler", "sentry"). Revive starts it
// again.
func (r *Run) Crash(name string) error {
	p := r.process(name)
	if p == nil {
		return fmt.Errorf("no running process %q", name)
	}
	p.kill()
	return nil
}

// kill sends SIGKILL to p's process group, not reported as a failure, and
// waits until it is gone.
func (p *process) kill() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Revive starts a process Crash killed, on the same ports and data, and
// waits until it is ready.
func (r *Run) Revive(ctx context.Context, name string) error {
	var (
		p      *process
		err    error
		checks []check
	)
	appName, sidecar := strings.CutSuffix(name, "-dapr")
	if a := r.app(appName); a != nil {
		if sidecar {
			p, err = r.startSidecar(a)
		} else {
			p, err = r.startAppProcess(a)
		}
		checks = r.appChecks(a)
	} else {
		p, err = r.startControlPlaneProcess(name)
		checks = r.controlPlaneChecks()
	}
	if err != nil {
		return err
	}
	r.replace(p)
	return r.waitFor(ctx, 2*time.Minute, checks)
}

// replace puts a restarted process where its dead namesake was, and
// watches it.
func (r *Run) replace(p *process) {
	for _, t := range r.tiers {
		for i, old := range t {
			if old.name == p.name {
				t[i] = p
			}
		}
	}
	go r.watchProcess(p)
}

func (r *Run) process(name string) *process {
	for _, t := range r.tiers {
		for _, p := range t {
			if p.name == name {
				return p
			}
		}
	}
	return nil
}

// Pause freezes an app's processes (SIGSTOP) and leaves its sidecar
// running: the app stops answering, requests and health probes alike, as a
// deadlocked or overloaded process would. Resume thaws it.
func (r *Run) Pause(appID string) error { return r.signalApp(appID, syscall.SIGSTOP) }

// Resume thaws an app frozen by Pause.
func (r *Run) Resume(appID string) error { return r.signalApp(appID, syscall.SIGCONT) }

func (r *Run) signalApp(name string, sig syscall.Signal) error {
	if p := r.process(name); p != nil {
		return syscall.Kill(-p.cmd.Process.Pid, sig)
	}
	return fmt.Errorf("no running app %q", name)
}

// Restart starts an app killed by Kill, and its sidecar, on the same ports
// and waits until both are ready.
func (r *Run) Restart(ctx context.Context, appID string) error {
	a := r.app(appID)
	if a == nil {
		return fmt.Errorf("no app %q", appID)
	}
	p, d, err := r.startApp(a)
	if err != nil {
		return err
	}
	r.replace(p)
	r.replace(d)
	return r.waitFor(ctx, 2*time.Minute, r.appChecks(a))
}
