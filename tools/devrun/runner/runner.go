package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/daprshop/platform/daprbin"
	"github.com/daprshop/platform/freeport"
	"github.com/daprshop/platform/trustbundle"
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
	// Profiles are component profiles (components/profiles/<name>) applied
	// over the default components, in order. See profile.go.
	Profiles []string
	// FreePorts isolates the run so it can coexist with `make run` (end-to-end
	// tests, benchmarks): every port is a free one, app IDs resolve through a
	// SQLite file of the run's own, Redis components use database RedisDB,
	// emails go to the run's own outbox and stand-ins get ports of their own.
	FreePorts bool
	// MDNS keeps a FreePorts run on mDNS, the resolver `make run` uses,
	// instead of a SQLite file of its own. mDNS is one namespace for the
	// whole host, so such runs take turns (hostlock "mdns"), and a `make
	// run` open beside one would answer for its app IDs.
	MDNS bool
	// TraceEndpoint, when set, makes every sidecar export its spans over
	// OTLP/gRPC to this host:port, or to a collector the run starts when it
	// is TraceCollector (`make run TRACING=1`).
	TraceEndpoint string
	// RedisDB is the Redis database of a FreePorts run; 0 reserves one of
	// 1-14 for this run alone and empties it (package redisdb); 15 is left
	// to `make bench`.
	RedisDB int
	// RedisVia points Redis components of a FreePorts run at another
	// address (component name -> host:port), such as a fault proxy in front
	// of Redis, to make one store stall or refuse while the rest work.
	RedisVia map[string]string
	// Redis points every Redis component of a FreePorts run, and the
	// gateway's rate-limit store, at a Redis server of the caller's
	// (host:port), such as one the chaos suite stops and restarts.
	Redis string
	// StateDir holds logs, scheduler data and app binaries; default <root>/.run.
	StateDir string
	// Binaries maps app IDs to prebuilt binaries for their `go run` commands,
	// so that several runs (one per profile) use the very same builds; apps
	// not in it are built into <StateDir>/bin. See BuildApps.
	Binaries map[string]string
	// Out receives the prefixed logs and progress; default os.Stdout.
	Out io.Writer
	// Verbose shows every daprd line, not only warnings and errors.
	Verbose bool
	// ReadyTimeout bounds the wait for everything to become ready; default 3m.
	ReadyTimeout time.Duration
	// Env adds to, or overrides, an app's environment: app ID -> name -> value.
	Env map[string]map[string]string
	// PublicGateway opens the gateway's port to the network; everything else
	// of the run listens on loopback only.
	PublicGateway bool
	// Netns runs each of these apps (FreePorts runs, Linux, as root), with
	// its sidecar, in a network namespace of its own joined to the host by
	// a veth pair, as a pod's network is joined to its node: Unplug and
	// Plug take the link down and up. Its sidecar reaches the control plane
	// and Redis across the link; other sidecars reach it at its end of it.
	Netns []string
	// Announce (app ID -> IP) makes an app's sidecar announce that address
	// to name resolution, with its own internal gRPC port, instead of where
	// it listens (SidecarAddress): a fault proxy listening there stands
	// between it and every sidecar that calls it.
	Announce map[string]string
}

// Run is a started topology.
type Run struct {
	root     string
	tokens   map[string]Tokens // per app ID
	daprBin  string
	stateDir string
	apps     []*app // the apps this run starts
	topology []*app // every app of the run file: its components are the run's
	cp       *controlPlane
	profile  *profile
	standins []*standin
	overlays []string // Configuration files layered over every app's own (isolate.go)
	mdns     bool     // a FreePorts run that resolves through mDNS (Options.MDNS)
	// sqliteNames: app IDs resolve through a SQLite file every sidecar
	// shares (the sqlite profile, or an isolated run's own); see startApps.
	sqliteNames bool
	cleanups    []func() // run by Stop after every process has stopped
	// wantCollector starts the bundled trace collector; traceEndpoint is
	// where the sidecars export spans (TraceEndpoint, or that collector).
	wantCollector bool
	// redisVia is Options.RedisVia; redis is Options.Redis.
	redisVia      map[string]string
	redis         string
	redisAddrs    []string // every Redis component's redisHost (netns.go)
	traceEndpoint string
	console       *console
	tiers         [][]*process // stopped from last to first
	failed        chan error
	stopOnce      sync.Once
	startedAt     time.Time
	// sidecarEnv is what the runner adds to every daprd's environment (its
	// own environment is inherited, as the Dapr CLI does): the app token and
	// the locations the local components read through envRef.
	sidecarEnv []string
}

type app struct {
	AppConfig
	bin  string
	args []string
	// ns is the app's network namespace (Options.Netns), nil on the host;
	// announce is the address its sidecar announces (Options.Announce).
	ns       *netns
	announce string
	// replica is 1 for an app's first process, 2.. for the others
	// (EnvReplicas): same app ID, ports of their own.
	replica int
}

// name is the app's process name: its app ID, with the replica number from
// the second replica on ("product-2").
func (a *app) name() string {
	if a.replica > 1 {
		return a.AppID + "-" + strconv.Itoa(a.replica)
	}
	return a.AppID
}

// EnvReplicas in an app's env (dapr.yaml) asks devrun for that many
// processes of the app, each beside its own sidecar, under one app ID: name
// resolution spreads calls across them. The Dapr CLI, which has no such
// setting, passes it on to the app and runs one.
const EnvReplicas = "DAPRSHOP_REPLICAS"

// replicaPortStep is how far each further replica's fixed ports are from the
// first's (isolated runs pick free ports instead).
const replicaPortStep = 1000

// addReplicas adds the further replicas every app's env asks for, on free
// ports or on the first's ports shifted by replicaPortStep.
func (r *Run) addReplicas(freePorts bool) error {
	var out []*app
	for _, a := range r.apps {
		out = append(out, a)
		more, err := replicas(a)
		if err != nil {
			return err
		}
		for _, c := range more {
			if freePorts {
				if err := c.movePorts(anyFreePort); err != nil {
					return err
				}
			}
		}
		out = append(out, more...)
	}
	r.apps = out
	return nil
}

// movePorts gives each of the app's ports (its own, its sidecar's and its
// ADMIN_PORT, if any) the port `to` returns for it.
func (a *app) movePorts(to func(port int) (int, error)) error {
	for _, p := range []*int{&a.AppPort, &a.DaprHTTPPort, &a.DaprGRPCPort, &a.DaprInternalGRPCPort, &a.MetricsPort} {
		port, err := to(*p)
		if err != nil {
			return err
		}
		*p = port
	}
	if v, ok := a.Env["ADMIN_PORT"]; ok {
		old, _ := strconv.Atoi(v)
		port, err := to(old)
		if err != nil {
			return err
		}
		a.Env["ADMIN_PORT"] = strconv.Itoa(port)
	}
	return nil
}

// anyFreePort is a movePorts rule for isolated runs: any free port.
func anyFreePort(int) (int, error) { return freeport.Pick() }

// replicas returns a's further replicas, as its env asks.
func replicas(a *app) ([]*app, error) {
	v, ok := a.Env[EnvReplicas]
	if !ok || v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 9 {
		return nil, fmt.Errorf("app %s: %s=%q is not a number from 1 to 9", a.AppID, EnvReplicas, v)
	}
	var out []*app
	for k := 2; k <= n; k++ {
		c := &app{AppConfig: a.AppConfig, replica: k}
		c.Env = maps.Clone(a.Env)
		c.ResourcesPaths = slices.Clone(a.ResourcesPaths)
		shift := (k - 1) * replicaPortStep
		_ = c.movePorts(func(p int) (int, error) {
			if p > 0 {
				p += shift
			}
			return p, nil
		})
		out = append(out, c)
	}
	return out, nil
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
	r := &Run{root: root, stateDir: o.StateDir, failed: make(chan error, 1), startedAt: time.Now()}
	if o.TraceEndpoint == TraceCollector {
		r.wantCollector = true
	} else {
		r.traceEndpoint = o.TraceEndpoint
	}
	for _, a := range rf.Apps {
		maps.Copy(a.Env, o.Env[a.AppID])
		if o.PublicGateway && a.AppID == "gateway" {
			a.Env["APP_LISTEN_ADDRESS"] = "0.0.0.0"
		}
		ap := &app{AppConfig: a, replica: 1}
		r.topology = append(r.topology, ap)
		if !o.NoApps && (len(o.Apps) == 0 || slices.Contains(o.Apps, a.AppID)) {
			r.apps = append(r.apps, ap)
		}
	}
	for _, id := range o.Apps {
		if !slices.ContainsFunc(r.apps, func(a *app) bool { return a.AppID == id }) {
			return nil, fmt.Errorf("%s has no app %q", o.RunFile, id)
		}
	}
	if !o.NoControlPlane {
		if r.cp, err = controlPlaneFor(rf); err != nil {
			return nil, err
		}
	}
	width := len("scheduler")
	for _, a := range r.apps {
		width = max(width, len(a.name())+len("-dapr"))
	}
	r.console = &console{out: o.Out, color: isTerminal(o.Out), width: width, logDir: logDir, verbose: o.Verbose}

	r.sidecarEnv = []string{
		// The address sidecars announce to name resolution: everything
		// runs on this machine, and the sidecars listen on loopback.
		"DAPR_HOST_IP=127.0.0.1",
		EnvSecretsFile + "=" + filepath.Join(root, DevSecretsFile),
		EnvOutbox + "=" + filepath.Join(root, ".outbox"),
		EnvRunDir + "=" + o.StateDir,
	}
	ok := false
	defer func() {
		if !ok {
			r.Stop()
		}
	}()
	if r.profile, err = loadProfiles(root, o.Profiles); err != nil {
		return nil, err
	}
	if err := r.profile.apply(r.topology, o.StateDir); err != nil {
		return nil, err
	}
	r.sqliteNames = r.profile.resolver() == "sqlite"
	if o.FreePorts {
		r.mdns = o.MDNS
		r.redisVia, r.redis = o.RedisVia, o.Redis
		if err := r.isolate(ctx, o.StateDir, o.RedisDB); err != nil {
			return nil, err
		}
	}
	// Stand-ins and streams belong with the control plane: `devrun infra`
	// starts them once, and the `devrun app` runs Tilt starts beside it
	// find them there.
	if r.cp != nil {
		if r.standins, err = r.standinsFor(o.FreePorts); err != nil {
			return nil, err
		}
	}

	if r.traceEndpoint != "" {
		if err := r.traceTo(r.traceEndpoint); err != nil {
			return nil, err
		}
	}
	// Replicas copy their first's settings as isolation and profiles left them.
	if err := r.addReplicas(o.FreePorts); err != nil {
		return nil, err
	}
	if err := r.preflight(); err != nil {
		return nil, err
	}
	if err := r.ensureConfigTables(ctx); err != nil {
		return nil, err
	}
	if err := r.trust(); err != nil {
		return nil, err
	}
	if r.cp != nil {
		if err := r.ensureStreams(ctx); err != nil {
			return nil, err
		}
	}
	if r.daprBin, err = daprbin.Dir(root); err != nil {
		return nil, err
	}
	if len(r.apps) > 0 {
		if err := EnsureDevSecrets(root, r.console.out); err != nil {
			return nil, err
		}
		if r.tokens, err = r.appTokens(o.FreePorts); err != nil {
			return nil, err
		}
		if err := r.build(ctx, filepath.Join(o.StateDir, "bin"), o.Binaries); err != nil {
			return nil, err
		}
	}
	if err := r.buildStandins(ctx); err != nil {
		return nil, err
	}
	if err := r.startStandins(ctx); err != nil {
		return nil, err
	}
	if r.cp != nil {
		if err := r.startControlPlane(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.placeInNetns(o); err != nil {
		return nil, err
	}
	if err := r.startApps(ctx); err != nil {
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

// Stop stops everything: apps, then sidecars, then the control plane and
// the stand-ins.
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
		for _, c := range r.cleanups {
			c()
		}
	})
}

// app finds an app's process by name: its app ID names its first (or
// only) replica, "product-2" the second.
func (r *Run) app(name string) *app {
	for _, a := range r.apps {
		if a.name() == name {
			return a
		}
	}
	return nil
}

// AppURL is the base URL of an app's own HTTP port; a replica is named by
// its process name ("product-2").
func (r *Run) AppURL(appID string) string {
	if a := r.app(appID); a != nil {
		return "http://" + a.urlHost() + ":" + strconv.Itoa(a.AppPort)
	}
	return ""
}

// MetricsPort is the port of an app's sidecar metrics.
func (r *Run) MetricsPort(appID string) int {
	if a := r.app(appID); a != nil {
		return a.MetricsPort
	}
	return 0
}

// AdminURL is the base URL of an app's operator port (its own port when it
// has no ADMIN_PORT).
func (r *Run) AdminURL(appID string) string {
	if a := r.app(appID); a != nil {
		return "http://" + a.urlHost() + ":" + strconv.Itoa(a.readyPort())
	}
	return ""
}

// SidecarURL is the base URL of an app's sidecar HTTP API.
func (r *Run) SidecarURL(appID string) string {
	if a := r.app(appID); a != nil {
		return "http://" + a.urlHost() + ":" + strconv.Itoa(a.DaprHTTPPort)
	}
	return ""
}

// ResourcesPaths are the resource folders an app's sidecar loads (in an
// isolated or profiled run, the rewritten copies: pass them to any extra
// sidecar that must share the run's pub/sub).
func (r *Run) ResourcesPaths(appID string) []string {
	if a := r.app(appID); a != nil {
		return slices.Clone(a.ResourcesPaths)
	}
	return nil
}

// ConfigPaths are the Dapr configuration files an app's sidecar loads, in
// order (its own, then the profile's and the run's overlays).
func (r *Run) ConfigPaths(appID string) []string {
	if a := r.app(appID); a != nil {
		return append([]string{a.ConfigFilePath}, r.extraConfigs()...)
	}
	return nil
}

// SidecarEnv is what the runner adds to every sidecar's environment; an
// extra sidecar sharing the run's components needs it too.
func (r *Run) SidecarEnv() []string { return slices.Clone(r.sidecarEnv) }

// Outbox is the folder the local email binding writes to.
func (r *Run) Outbox() string { return envValue(r.sidecarEnv, EnvOutbox) }

// Profiles are the component profiles this run applies.
func (r *Run) Profiles() []string { return r.profile.names() }

// MailAPI is the base URL of the SMTP stand-in's HTTP API ("" without one).
func (r *Run) MailAPI() string {
	for _, s := range r.standins {
		if s.kind == standinMail {
			return s.apiURL
		}
	}
	return ""
}

// AppToken is the token an app's sidecar presents to it; a benchmark sends
// it to call an app directly, bypassing its sidecar.
func (r *Run) AppToken(appID string) string { return r.tokens[appID].App }

// APIToken is the token an app presents to its sidecar's API.
func (r *Run) APIToken(appID string) string { return r.tokens[appID].API }

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

// appTokens are the apps' tokens: those of secrets/tokens.json, so that
// other tools (make deadletters, Tilt's runs) find them, or fresh ones for
// an isolated run.
func (r *Run) appTokens(isolated bool) (map[string]Tokens, error) {
	ids := make([]string, 0, len(r.topology))
	for _, a := range r.topology {
		ids = append(ids, a.AppID)
	}
	if !isolated {
		return EnsureTokens(r.root, ids)
	}
	m := map[string]Tokens{}
	for _, id := range ids {
		m[id] = Tokens{API: newToken(), App: newToken()}
	}
	return m, nil
}

// trust makes the local trust bundle on first use and gives every sidecar
// its root (DAPR_TRUST_ANCHORS) and sentry's address.
func (r *Run) trust() error {
	root, err := trustbundle.Ensure(filepath.Join(r.root, TrustDir))
	if err != nil {
		return err
	}
	r.setEnv("DAPR_TRUST_ANCHORS", string(root))
	if addr := r.SentryAddress(); addr != "" {
		for _, a := range append(slices.Clone(r.topology), r.apps...) {
			a.SentryAddress = addr
		}
	}
	return nil
}

// StateDir is the folder of the run's logs, data and generated files.
func (r *Run) StateDir() string { return r.stateDir }

// LogFile is the full log of a process of the run ("gateway", "gateway-dapr",
// "placement", a stand-in's tool name).
func (r *Run) LogFile(process string) string { return filepath.Join(r.console.logDir, process+".log") }

// Elapsed is the time Start took.
func (r *Run) Elapsed() time.Duration { return time.Since(r.startedAt) }

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}
