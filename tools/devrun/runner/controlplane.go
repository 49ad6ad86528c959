package runner

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

type controlPlane struct {
	sentryPort, sentryHealth, sentryMetrics                                int
	placementPort, placementHealth, placementMetrics, placementRaft        int
	schedulerPort, schedulerHealth, schedulerMetrics, etcdClient, etcdPeer int
}

// DefaultSentryPort is where `dapr init` would run sentry and where the Dapr
// CLI points daprd when a configuration turns mTLS on.
const DefaultSentryPort = 50001

// TrustDir is where the local trust bundle lives (git-ignored, made on
// first run; delete it to rotate).
const TrustDir = "secrets/trust"

// controlPlaneFor places placement and the scheduler where the run file's
// apps look for them (the CLI's defaults, :50005 and :50006, when unset).
func controlPlaneFor(rf *RunFile) (*controlPlane, error) {
	port := func(addr string) (int, error) {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			return 0, fmt.Errorf("address %q: %w", addr, err)
		}
		return strconv.Atoi(p)
	}
	a := rf.Apps[0]
	pp, err := port(a.PlacementHostAddress)
	if err != nil {
		return nil, err
	}
	sp, err := port(*a.SchedulerHostAddress)
	if err != nil {
		return nil, err
	}
	// Health, metrics, raft and etcd ports: clear of the defaults (8080,
	// 9090, 2379, 2380, 8201) that collide with other software, and below
	// Linux's ephemeral range (32768+), where an outgoing connection can be
	// holding the port when we start.
	return &controlPlane{
		sentryPort: DefaultSentryPort, sentryHealth: 8207, sentryMetrics: 9207,
		placementPort: pp, placementHealth: 8205, placementMetrics: 9205, placementRaft: 8211,
		schedulerPort: sp, schedulerHealth: 8206, schedulerMetrics: 9206, etcdClient: 12379, etcdPeer: 12380,
	}, nil
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

// ControlPlaneHealthPorts are the healthz ports of sentry, placement and the
// scheduler. Dapr 1.18.1 ignores their --healthz-listen-address (fixed
// upstream in dapr/dapr#10394, after 1.18.3), so these three listen on every
// interface; they answer /healthz only.
func (r *Run) ControlPlaneHealthPorts() map[string]int {
	if r.cp == nil {
		return nil
	}
	return map[string]int{"sentry": r.cp.sentryHealth, "placement": r.cp.placementHealth, "scheduler": r.cp.schedulerHealth}
}

// SentryAddress is where sidecars get their certificates ("" if not run here).
func (r *Run) SentryAddress() string {
	if r.cp == nil {
		return ""
	}
	return "localhost:" + strconv.Itoa(r.cp.sentryPort)
}

// sentryConfig is sentry's own Configuration: mTLS with day-long workload
// certificates, renewed by the sidecars before they expire.
const sentryConfig = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprsystem
spec:
  mtls:
    enabled: true
    workloadCertTTL: 24h
    allowedClockSkew: 15m
`

// startControlPlane starts sentry (the certificate authority, from the
// local trust bundle), then placement and the scheduler, which also take
// their certificates from it: every connection between sidecars and to the
// control plane is mutual TLS.
func (r *Run) startControlPlane(ctx context.Context) error {
	cp := r.cp
	itoa := strconv.Itoa
	trust := filepath.Join(r.root, TrustDir)
	conf := filepath.Join(r.stateDir, "sentry.yaml")
	if err := os.WriteFile(conf, []byte(sentryConfig), 0o644); err != nil {
		return err
	}
	sentry, err := r.console.start("sentry", "90", r.root, filepath.Join(r.daprBin, "sentry"), []string{
		"--mode", "standalone", "--config", conf, "--issuer-credentials", trust,
		"--port", itoa(cp.sentryPort), "--listen-address", "127.0.0.1",
		"--healthz-port", itoa(cp.sentryHealth), "--healthz-listen-address", "127.0.0.1",
		// Sentry 1.18.1 ignores --metrics-listen-address and would serve
		// metrics on every interface; nothing scrapes it locally.
		"--enable-metrics=false",
	}, nil, daprdNotable)
	if err != nil {
		return err
	}
	tier := []*process{sentry}
	r.tiers = append(r.tiers, tier)
	if err := r.waitFor(ctx, time.Minute, []check{{name: "sentry", url: fmt.Sprintf("http://127.0.0.1:%d/healthz", cp.sentryHealth)}}); err != nil {
		return err
	}
	placement, err := r.startControlPlaneProcess("placement")
	if err != nil {
		return err
	}
	tier = append(tier, placement)
	r.tiers[len(r.tiers)-1] = tier
	scheduler, err := r.startControlPlaneProcess("scheduler")
	if err != nil {
		return err
	}
	r.tiers[len(r.tiers)-1] = append(tier, scheduler)
	return nil
}

// startControlPlaneProcess starts placement or the scheduler, which take
// their certificates from sentry.
func (r *Run) startControlPlaneProcess(name string) (*process, error) {
	cp := r.cp
	itoa := strconv.Itoa
	trust := filepath.Join(r.root, TrustDir)
	tls := []string{"--tls-enabled", "--sentry-address", r.SentryAddress(), "--trust-anchors-file", filepath.Join(trust, "ca.crt")}
	switch name {
	case "placement":
		return r.console.start("placement", "90", r.root, filepath.Join(r.daprBin, "placement"), append([]string{
			"--port", itoa(cp.placementPort), "--healthz-port", itoa(cp.placementHealth),
			"--metrics-port", itoa(cp.placementMetrics),
			"--initial-cluster", "dapr-placement-0=127.0.0.1:" + itoa(cp.placementRaft),
			"--listen-address", "127.0.0.1", "--healthz-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1",
		}, tls...), nil, daprdNotable)
	case "scheduler":
		return r.console.start("scheduler", "90", r.root, filepath.Join(r.daprBin, "scheduler"), append([]string{
			"--port", itoa(cp.schedulerPort), "--healthz-port", itoa(cp.schedulerHealth),
			"--metrics-port", itoa(cp.schedulerMetrics),
			"--listen-address", "127.0.0.1", "--healthz-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1",
			"--override-broadcast-host-port", "localhost:" + itoa(cp.schedulerPort),
			"--etcd-data-dir", filepath.Join(r.stateDir, "scheduler"), "--etcd-client-port", itoa(cp.etcdClient),
			"--etcd-initial-cluster", "dapr-scheduler-server-0=https://localhost:" + itoa(cp.etcdPeer),
			"--identity-directory-write", filepath.Join(r.stateDir, "scheduler-identity"),
		}, tls...), nil, daprdNotable)
	}
	return nil, fmt.Errorf("no control-plane process %q to start (sentry is started with the control plane)", name)
}

func (r *Run) controlPlaneChecks() []check {
	return []check{
		{name: "sentry", url: fmt.Sprintf("http://127.0.0.1:%d/healthz", r.cp.sentryHealth)},
		{name: "placement", url: fmt.Sprintf("http://127.0.0.1:%d/healthz", r.cp.placementHealth)},
		{name: "scheduler", url: fmt.Sprintf("http://127.0.0.1:%d/healthz", r.cp.schedulerHealth)},
	}
}

// controlPlaneTier is the tier holding placement and the scheduler.
func (r *Run) controlPlaneTier() int {
	for i, t := range r.tiers {
		for _, p := range t {
			if p.name == "placement" {
				return i
			}
		}
	}
	return -1
}

// RestartControlPlane stops placement and the scheduler (SIGTERM) and
// starts them again on the same ports and data, as a rolling upgrade would;
// workflows in flight must carry on.
func (r *Run) RestartControlPlane(ctx context.Context) error {
	i := r.controlPlaneTier()
	if r.cp == nil || i < 0 {
		return fmt.Errorf("this run has no control plane")
	}
	for _, p := range r.tiers[i] {
		p.stop(10 * time.Second)
	}
	if err := r.startControlPlane(ctx); err != nil {
		return err
	}
	// startControlPlane appended a tier; it replaces the old one.
	r.tiers[i], r.tiers = r.tiers[len(r.tiers)-1], r.tiers[:len(r.tiers)-1]
	for _, p := range r.tiers[i] {
		go r.watchProcess(p)
	}
	return r.waitFor(ctx, 2*time.Minute, r.controlPlaneChecks())
}
