package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/daprshop/platform/daprbin"
	"github.com/daprshop/platform/freeport"
	"github.com/daprshop/platform/probe"
)

// Options control a run.
type Options struct {
	// RunFile is the path of dapr.yaml; the repository root is its folder.
	RunFile string
	// Apps limits the run to these app IDs; empty runs all of them.
	Apps []string
	// NoApps runs the control plane only (placement and scheduler).
	NoApps bool
	// NoControlPlane skips placement and scheduler (they run elsewhere, e.g.
	// started by `devrun infra` or `dapr init`).
	NoControlPlane bool
	// FreePorts isolates the run so it can coexist with `make run` (end-to-end
	// tests, benchmarks): every port is a free one, app IDs resolve through a
	// SQLite file of the run's own, and Redis components use database RedisDB.
	FreePorts bool
	// RedisDB is the Redis database of a FreePorts run; 0 picks one of 1-14 at
	// random (15 is left to `make bench`, which empties it first).
	RedisDB int
	// StateDir holds logs, scheduler data and app binaries; default <root>/.run.
	StateDir string
	// Out receives the prefixed logs and progress; default os.Stdout.
	Out io.Writer
	// Verbose shows every daprd line, not only warnings and errors.
	Verbose bool
	// ReadyTimeout bounds the wait for everything to become ready; default 3m.
	ReadyTimeout time.Duration
	// Env adds to, or overrides, an app's environment: app ID -> name -> value.
	Env map[string]map[string]string
}

// Run is a started topology.
type Run struct {
	root      string
	appToken  string
	outbox    string
	daprBin   string
	stateDir  string
	apps      []*app
	cp        *controlPlane
	console   *console
	tiers     [][]*process // stopped from last to first
	failed    chan error
	stopOnce  sync.Once
	startedAt time.Time
}

type app struct {
	AppConfig
	bin  string
	args []string
}

type controlPlane struct {
	placementPort, placementHealth, placementMetrics, placementRaft        int
	schedulerPort, schedulerHealth, schedulerMetrics, etcdClient, etcdPeer int
}

// Start brings the topology up and returns once every process is ready, or
// stops what it started and returns why it could not.
func Start(ctx context.Context, o Options) (*Run, error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 3 * time.Minute
	}
	rf, err := LoadRunFile(o.RunFile)
	if err != nil {
		return nil, err
	}
	root, _ := filepath.Abs(filepath.Dir(o.RunFile))
	if o.StateDir == "" {
		o.StateDir = filepath.Join(root, ".run")
	}
	logDir := filepath.Join(o.StateDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	r := &Run{root: root, failed: make(chan error, 1), startedAt: time.Now()}
	for _, a := range rf.Apps {
		if !o.NoApps && (len(o.Apps) == 0 || slices.Contains(o.Apps, a.AppID)) {
			maps.Copy(a.Env, o.Env[a.AppID])
			r.apps = append(r.apps, &app{AppConfig: a})
		}
	}
	for _, id := range o.Apps {
		if !slices.ContainsFunc(r.apps, func(a *app) bool { return a.AppID == id }) {
			return nil, fmt.Errorf("%s has no app %q", o.RunFile, id)
		}
	}
	if !o.NoControlPlane {
		r.cp, err = controlPlaneFor(rf)
		if err != nil {
			return nil, err
		}
	}
	if o.FreePorts {
		if err := r.useFreePorts(); err != nil {
			return nil, err
		}
		if err := r.isolateNameResolution(o.StateDir); err != nil {
			return nil, err
		}
		if o.RedisDB == 0 {
			o.RedisDB = 1 + mrand.IntN(14)
		}
		r.outbox = filepath.Join(o.StateDir, "outbox")
		if err := r.isolateResources(o.StateDir, o.RedisDB); err != nil {
			return nil, err
		}
	}

	width := len("scheduler")
	for _, a := range r.apps {
		width = max(width, len(a.AppID)+len("-dapr"))
	}
	r.console = &console{out: o.Out, color: isTerminal(o.Out), width: width, logDir: logDir, verbose: o.Verbose}

	if err := r.preflight(); err != nil {
		return nil, err
	}
	daprBin, err := daprbin.Dir(root)
	if err != nil {
		return nil, err
	}
	r.daprBin = daprBin
	if len(r.apps) > 0 {
		if err := EnsureDevSecrets(root, r.console.out); err != nil {
			return nil, err
		}
		if err := r.build(ctx, filepath.Join(o.StateDir, "bin")); err != nil {
			return nil, err
		}
	}

	ok := false
	defer func() {
		if !ok {
			r.Stop()
		}
	}()
	if r.cp != nil {
		if err := r.startControlPlane(daprBin, o.StateDir); err != nil {
			return nil, err
		}
	}
	if err := r.startApps(daprBin); err != nil {
		return nil, err
	}
	go r.watch()
	if err := r.waitReady(ctx, o.ReadyTimeout); err != nil {
		return nil, err
	}
	ok = true
	return r, nil
}

// Failed delivers an error when a process exits on its own.
func (r *Run) Failed() <-chan error { return r.failed }

// Stop stops everything: apps, then sidecars, then the control plane.
func (r *Run) Stop() {
	r.stopOnce.Do(func() {
		for i := len(r.tiers) - 1; i >= 0; i-- {
			var wg sync.WaitGroup
			for _, p := range r.tiers[i] {
				wg.Add(1)
				go func() { defer wg.Done(); p.stop(10 * time.Second) }()
			}
			wg.Wait()
		}
	})
}

// AppURL is the base URL of an app's own HTTP port.
func (r *Run) AppURL(appID string) string {
	for _, a := range r.apps {
		if a.AppID == appID {
			return "http://localhost:" + strconv.Itoa(a.AppPort)
		}
	}
	return ""
}

// SidecarURL is the base URL of an app's sidecar HTTP API.
func (r *Run) SidecarURL(appID string) string {
	for _, a := range r.apps {
		if a.AppID == appID {
			return "http://localhost:" + strconv.Itoa(a.DaprHTTPPort)
		}
	}
	return ""
}

// PlacementAddress and SchedulerAddress locate the control plane ("" if not run).
func (r *Run) PlacementAddress() string {
	if r.cp == nil {
		return ""
	}
	return "localhost:" + strconv.Itoa(r.cp.placementPort)
}

func (r *Run) SchedulerAddress() string {
	if r.cp == nil {
		return ""
	}
	return "localhost:" + strconv.Itoa(r.cp.schedulerPort)
}

// ResourcesPaths are the resource folders an app's sidecar loads; in an
// isolated run, the rewritten copies (pass them to any extra sidecar that
// must share the run's pub/sub).
func (r *Run) ResourcesPaths(appID string) []string {
	for _, a := range r.apps {
		if a.AppID == appID {
			return slices.Clone(a.ResourcesPaths)
		}
	}
	return nil
}

// Outbox is the folder the email binding writes to: <root>/.outbox, or
// the run's own in an isolated run.
func (r *Run) Outbox() string {
	if r.outbox != "" {
		return r.outbox
	}
	return filepath.Join(r.root, ".outbox")
}

// AppToken is the token sidecars present to their apps in this run; a
// benchmark sends it to call an app directly, bypassing its sidecar.
func (r *Run) AppToken() string { return r.appToken }

// PIDs maps each process name (app, app-dapr, placement, scheduler) to its PID.
func (r *Run) PIDs() map[string]int {
	m := map[string]int{}
	for _, tier := range r.tiers {
		for _, p := range tier {
			m[p.name] = p.cmd.Process.Pid
		}
	}
	return m
}

// Elapsed is the time Start took.
func (r *Run) Elapsed() time.Duration { return time.Since(r.startedAt) }

func controlPlaneFor(rf *RunFile) (*controlPlane, error) {
	port := func(addr string, def int) (int, error) {
		if addr == "" {
			return def, nil
		}
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			return 0, fmt.Errorf("address %q: %w", addr, err)
		}
		return strconv.Atoi(p)
	}
	pp, err := port(rf.Common.PlacementHostAddress, 50005)
	if err != nil {
		return nil, err
	}
	sp, err := port(rf.Common.SchedulerHostAddress, 50006)
	if err != nil {
		return nil, err
	}
	// Health, metrics, raft and etcd ports: clear of the defaults (8080,
	// 9090, 2379, 2380, 8201) that collide with other software, and below
	// Linux's ephemeral range (32768+), where an outgoing connection can be
	// holding the port when we start.
	return &controlPlane{
		placementPort: pp, placementHealth: 8205, placementMetrics: 9205, placementRaft: 8211,
		schedulerPort: sp, schedulerHealth: 8206, schedulerMetrics: 9206, etcdClient: 12379, etcdPeer: 12380,
	}, nil
}

func (r *Run) useFreePorts() error {
	ports := []*int{}
	for _, a := range r.apps {
		ports = append(ports, &a.AppPort, &a.DaprHTTPPort, &a.DaprGRPCPort, &a.DaprInternalGRPCPort, &a.MetricsPort)
	}
	if cp := r.cp; cp != nil {
		ports = append(ports, &cp.placementPort, &cp.placementHealth, &cp.placementMetrics, &cp.placementRaft,
			&cp.schedulerPort, &cp.schedulerHealth, &cp.schedulerMetrics, &cp.etcdClient, &cp.etcdPeer)
	}
	for _, p := range ports {
		port, err := freeport.Pick()
		if err != nil {
			return err
		}
		*p = port
	}
	return nil
}

// preflight fails fast, with the fix, on what would otherwise fail later and
// obscurely: a port already taken or a Redis that does not answer.
func (r *Run) preflight() error {
	type use struct {
		port int
		what string
	}
	var uses []use
	for _, a := range r.apps {
		uses = append(uses,
			use{a.AppPort, a.AppID + " app port"}, use{a.DaprHTTPPort, a.AppID + " sidecar HTTP port"},
			use{a.DaprGRPCPort, a.AppID + " sidecar gRPC port"}, use{a.DaprInternalGRPCPort, a.AppID + " sidecar internal gRPC port"},
			use{a.MetricsPort, a.AppID + " sidecar metrics port"})
	}
	if cp := r.cp; cp != nil {
		uses = append(uses, use{cp.placementPort, "placement"}, use{cp.placementHealth, "placement health"},
			use{cp.placementMetrics, "placement metrics"}, use{cp.placementRaft, "placement raft"},
			use{cp.schedulerPort, "scheduler"}, use{cp.schedulerHealth, "scheduler health"},
			use{cp.schedulerMetrics, "scheduler metrics"}, use{cp.etcdClient, "scheduler etcd"}, use{cp.etcdPeer, "scheduler etcd peer"})
	}
	var problems []string
	seen := map[int]string{}
	for _, u := range uses {
		if u.port <= 0 {
			problems = append(problems, u.what+" is not set in dapr.yaml")
			continue
		}
		if prev, dup := seen[u.port]; dup {
			problems = append(problems, fmt.Sprintf("port %d is given to both %s and %s", u.port, prev, u.what))
			continue
		}
		seen[u.port] = u.what
		if !portFree(u.port) {
			problems = append(problems, fmt.Sprintf("port %d (%s) is in use: is another `make run` still running? (see: ss -ltnp 'sport = :%d')", u.port, u.what, u.port))
		}
	}
	var paths []string
	for _, a := range r.apps {
		paths = append(paths, a.ResourcesPaths...)
	}
	redis, err := redisHosts(paths)
	if err != nil {
		return err
	}
	for _, host := range redis {
		if err := probe.Redis(host); err != nil {
			problems = append(problems, fmt.Sprintf("Redis at %s (used by the components) does not answer: %v. "+
				"Start it, e.g. `redis-server --daemonize yes --port 6379`, or point the components at yours.", host, err))
		}
	}
	if len(problems) > 0 {
		return errors.New("cannot start:\n  - " + strings.Join(problems, "\n  - "))
	}
	return nil
}

// portFree reports whether port can be listened on. A port in the
// ephemeral range can be held for a moment by an outgoing connection, so a
// busy port is tried again for up to two seconds.
func portFree(port int) bool {
	for try := 0; try < 10; try++ {
		if ln, err := net.Listen("tcp", ":"+strconv.Itoa(port)); err == nil {
			ln.Close()
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// build compiles `go run <pkg>` commands into binaries, so that a stop
// signal reaches the service itself rather than the go tool.
func (r *Run) build(ctx context.Context, binDir string) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	for _, a := range r.apps {
		pkg, rest, ok := goRunPackage(a.Command)
		if !ok {
			a.bin, a.args = a.Command[0], a.Command[1:]
			continue
		}
		start := time.Now()
		out := filepath.Join(binDir, a.AppID)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = a.AppDirPath
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", a.AppID, err, b)
		}
		r.console.printf("built %s in %.1fs\n", a.AppID, time.Since(start).Seconds())
		a.bin, a.args = out, rest
	}
	return nil
}

func (r *Run) startControlPlane(daprBin, stateDir string) error {
	r.stateDir = stateDir
	cp := r.cp
	itoa := strconv.Itoa
	placement, err := r.console.start("placement", "90", r.root, filepath.Join(daprBin, "placement"), []string{
		"--port", itoa(cp.placementPort), "--healthz-port", itoa(cp.placementHealth),
		"--metrics-port", itoa(cp.placementMetrics),
		"--initial-cluster", "dapr-placement-0=127.0.0.1:" + itoa(cp.placementRaft),
		"--listen-address", "127.0.0.1", "--healthz-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1",
	}, nil, daprdNotable)
	if err != nil {
		return err
	}
	dataDir := filepath.Join(stateDir, "scheduler")
	scheduler, err := r.console.start("scheduler", "90", r.root, filepath.Join(daprBin, "scheduler"), []string{
		"--port", itoa(cp.schedulerPort), "--healthz-port", itoa(cp.schedulerHealth),
		"--metrics-port", itoa(cp.schedulerMetrics),
		"--listen-address", "127.0.0.1", "--healthz-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1",
		"--override-broadcast-host-port", "localhost:" + itoa(cp.schedulerPort),
		"--etcd-data-dir", dataDir, "--etcd-client-port", itoa(cp.etcdClient),
		"--etcd-initial-cluster", "dapr-scheduler-server-0=http://localhost:" + itoa(cp.etcdPeer),
	}, nil, daprdNotable)
	if err != nil {
		placement.stop(5 * time.Second)
		return err
	}
	r.tiers = append(r.tiers, []*process{placement, scheduler})
	return nil
}

func (r *Run) startApps(daprBin string) error {
	if len(r.apps) == 0 {
		return nil
	}
	token := make([]byte, 24)
	_, _ = rand.Read(token)
	// The sidecar presents this on every call into its app; apps refuse calls
	// without it, so only the sidecar can reach them (see sidecar.RequireAppToken).
	r.appToken = hex.EncodeToString(token)
	appToken := "APP_API_TOKEN=" + r.appToken
	// Sidecars and apps are separate tiers so that Stop stops apps first.
	r.tiers = append(r.tiers, nil, nil)
	sidecars, apps := &r.tiers[len(r.tiers)-2], &r.tiers[len(r.tiers)-1]
	for i, a := range r.apps {
		color := palette[i%len(palette)]
		p, err := r.console.start(a.AppID, color, a.AppDirPath, a.bin, a.args, append(r.appEnv(a), appToken), showAll)
		if err != nil {
			return err
		}
		*apps = append(*apps, p)
		d, err := r.console.start(a.AppID+"-dapr", color, r.root, filepath.Join(daprBin, "daprd"), r.daprdArgs(a), []string{appToken}, daprdNotable)
		if err != nil {
			return err
		}
		*sidecars = append(*sidecars, d)
	}
	return nil
}

func (r *Run) appEnv(a *app) []string {
	env := []string{
		"APP_ID=" + a.AppID,
		"APP_PORT=" + strconv.Itoa(a.AppPort),
		"APP_PROTOCOL=" + a.AppProtocol,
		"DAPR_HTTP_PORT=" + strconv.Itoa(a.DaprHTTPPort),
		"DAPR_GRPC_PORT=" + strconv.Itoa(a.DaprGRPCPort),
		"DAPR_METRICS_PORT=" + strconv.Itoa(a.MetricsPort),
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

func (r *Run) daprdArgs(a *app) []string {
	itoa := strconv.Itoa
	args := []string{
		"--app-id", a.AppID, "--mode", "standalone",
		"--app-port", itoa(a.AppPort), "--app-protocol", a.AppProtocol,
		"--dapr-http-port", itoa(a.DaprHTTPPort), "--dapr-grpc-port", itoa(a.DaprGRPCPort),
		"--dapr-internal-grpc-port", itoa(a.DaprInternalGRPCPort), "--metrics-port", itoa(a.MetricsPort),
		"--dapr-listen-addresses", "127.0.0.1",
	}
	if a.LogLevel != "" {
		args = append(args, "--log-level", a.LogLevel)
	}
	for _, p := range a.ResourcesPaths {
		args = append(args, "--resources-path", p)
	}
	if a.ConfigFilePath != "" {
		args = append(args, "--config", a.ConfigFilePath)
	}
	if r.cp != nil {
		args = append(args, "--placement-host-address", r.PlacementAddress(), "--scheduler-host-address", r.SchedulerAddress())
	} else {
		args = append(args, "--placement-host-address", a.PlacementHostAddress, "--scheduler-host-address", a.SchedulerHostAddress)
	}
	if a.EnableAppHealthCheck != nil && *a.EnableAppHealthCheck {
		args = append(args, "--enable-app-health-check", "--app-health-check-path", a.AppHealthCheckPath)
		if a.AppHealthProbeInterval > 0 {
			args = append(args, "--app-health-probe-interval", itoa(a.AppHealthProbeInterval))
		}
	}
	return args
}

// watch reports the first process that exits while nobody is stopping it.
func (r *Run) watch() {
	for _, t := range r.tiers {
		for _, p := range t {
			go r.watchProcess(p)
		}
	}
}

func (r *Run) watchProcess(p *process) {
	<-p.done
	if p.isStopping() {
		return
	}
	err := fmt.Errorf("%s exited (%v); its last lines:\n%s", p.name, p.err, indent(p.tail.String()))
	select {
	case r.failed <- err:
	default:
	}
}

// Kill crashes an app and its sidecar with SIGKILL, as a power cut would;
// it is not reported as a failure. Restart brings them back.
func (r *Run) Kill(appID string) error {
	found := false
	for _, t := range r.tiers {
		for _, p := range t {
			if p.name == appID || p.name == appID+"-dapr" {
				found = true
				p.mu.Lock()
				p.stopping = true
				p.mu.Unlock()
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
				<-p.done
			}
		}
	}
	if !found {
		return fmt.Errorf("no running app %q", appID)
	}
	return nil
}

// Restart starts an app killed by Kill, and its sidecar, on the same ports
// and waits until both are ready.
func (r *Run) Restart(ctx context.Context, appID string) error {
	var a *app
	for _, x := range r.apps {
		if x.AppID == appID {
			a = x
		}
	}
	if a == nil {
		return fmt.Errorf("no app %q", appID)
	}
	token := "APP_API_TOKEN=" + r.appToken
	color := palette[slices.Index(r.apps, a)%len(palette)]
	p, err := r.console.start(a.AppID, color, a.AppDirPath, a.bin, a.args, append(r.appEnv(a), token), showAll)
	if err != nil {
		return err
	}
	d, err := r.console.start(a.AppID+"-dapr", color, r.root, filepath.Join(r.daprBin, "daprd"), r.daprdArgs(a), []string{token}, daprdNotable)
	if err != nil {
		p.stop(5 * time.Second)
		return err
	}
	for _, t := range r.tiers {
		for i, old := range t {
			switch old.name {
			case p.name:
				t[i] = p
			case d.name:
				t[i] = d
			}
		}
	}
	go r.watchProcess(p)
	go r.watchProcess(d)
	return r.waitFor(ctx, 2*time.Minute, []check{
		{a.AppID + "-dapr", fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", a.DaprHTTPPort)},
		{a.AppID, fmt.Sprintf("http://127.0.0.1:%d/readyz", a.AppPort)},
	})
}

// RestartControlPlane stops placement and the scheduler (SIGTERM) and
// starts them again on the same ports and data, as a rolling upgrade would;
// workflows in flight must carry on.
func (r *Run) RestartControlPlane(ctx context.Context) error {
	if r.cp == nil || len(r.tiers) == 0 {
		return fmt.Errorf("this run has no control plane")
	}
	for _, p := range r.tiers[0] {
		p.stop(10 * time.Second)
	}

	if err := r.startControlPlane(r.daprBin, r.stateDir); err != nil {
		return err
	}
	// startControlPlane appended a tier; it replaces the first.
	r.tiers[0], r.tiers = r.tiers[len(r.tiers)-1], r.tiers[:len(r.tiers)-1]
	for _, p := range r.tiers[0] {
		go r.watchProcess(p)
	}
	return r.waitFor(ctx, 2*time.Minute, []check{
		{"placement", fmt.Sprintf("http://127.0.0.1:%d/healthz", r.cp.placementHealth)},
		{"scheduler", fmt.Sprintf("http://127.0.0.1:%d/healthz", r.cp.schedulerHealth)},
	})
}

type check struct{ name, url string }

// waitReady polls every sidecar's /v1.0/healthz and every app's /readyz,
// printing what it still waits for.
func (r *Run) waitReady(ctx context.Context, timeout time.Duration) error {
	var checks []check
	if cp := r.cp; cp != nil {
		checks = append(checks,
			check{"placement", fmt.Sprintf("http://127.0.0.1:%d/healthz", cp.placementHealth)},
			check{"scheduler", fmt.Sprintf("http://127.0.0.1:%d/healthz", cp.schedulerHealth)})
	}
	for _, a := range r.apps {
		checks = append(checks,
			check{a.AppID + "-dapr", fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", a.DaprHTTPPort)},
			check{a.AppID, fmt.Sprintf("http://127.0.0.1:%d/readyz", a.AppPort)})
	}
	return r.waitFor(ctx, timeout, checks)
}

// waitFor polls checks until all pass, printing what it still waits for.
func (r *Run) waitFor(ctx context.Context, timeout time.Duration, checks []check) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	hinted := false
	ready := map[string]bool{}
	for {
		var waiting []string
		for _, c := range checks {
			if ready[c.name] {
				continue
			}
			if why := probeHTTP(ctx, client, c.url); why != "" {
				waiting = append(waiting, c.name+" ("+why+")")
				continue
			}
			ready[c.name] = true
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case err := <-r.failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %s (logs: %s)", timeout, strings.Join(waiting, ", "), r.console.logDir)
		}
		if time.Since(lastReport) > 3*time.Second {
			lastReport = time.Now()
			r.console.printf("… waiting for %s\n", strings.Join(waiting, ", "))
			if !hinted && strings.Contains(strings.Join(waiting, ""), "scheduler-watch-hosts") {
				hinted = true
				r.console.printf("  (after a run that was killed rather than stopped, the scheduler waits ~20s for its old leadership lease to expire)\n")
			}
		}
	}
}

// probeHTTP returns "" when url answers 2xx, or a short reason.
func probeHTTP(ctx context.Context, client *http.Client, url string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return "not listening yet"
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if s := strings.TrimSpace(string(b)); s != "" {
		return resp.Status + ": " + s
	}
	return resp.Status
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
