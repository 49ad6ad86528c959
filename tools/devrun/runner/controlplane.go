package runner

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"
)

type controlPlane struct {
	placementPort, placementHealth, placementMetrics, placementRaft        int
	schedulerPort, schedulerHealth, schedulerMetrics, etcdClient, etcdPeer int
}

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

func (r *Run) startControlPlane() error {
	cp := r.cp
	itoa := strconv.Itoa
	placement, err := r.console.start("placement", "90", r.root, filepath.Join(r.daprBin, "placement"), []string{
		"--port", itoa(cp.placementPort), "--healthz-port", itoa(cp.placementHealth),
		"--metrics-port", itoa(cp.placementMetrics),
		"--initial-cluster", "dapr-placement-0=127.0.0.1:" + itoa(cp.placementRaft),
		"--listen-address", "127.0.0.1", "--healthz-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1",
	}, nil, daprdNotable)
	if err != nil {
		return err
	}
	scheduler, err := r.console.start("scheduler", "90", r.root, filepath.Join(r.daprBin, "scheduler"), []string{
		"--port", itoa(cp.schedulerPort), "--healthz-port", itoa(cp.schedulerHealth),
		"--metrics-port", itoa(cp.schedulerMetrics),
		"--listen-address", "127.0.0.1", "--healthz-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1",
		"--override-broadcast-host-port", "localhost:" + itoa(cp.schedulerPort),
		"--etcd-data-dir", filepath.Join(r.stateDir, "scheduler"), "--etcd-client-port", itoa(cp.etcdClient),
		"--etcd-initial-cluster", "dapr-scheduler-server-0=http://localhost:" + itoa(cp.etcdPeer),
	}, nil, daprdNotable)
	if err != nil {
		placement.stop(5 * time.Second)
		return err
	}
	r.tiers = append(r.tiers, []*process{placement, scheduler})
	return nil
}

func (r *Run) controlPlaneChecks() []check {
	return []check{
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
	if err := r.startControlPlane(); err != nil {
		return err
	}
	// startControlPlane appended a tier; it replaces the old one.
	r.tiers[i], r.tiers = r.tiers[len(r.tiers)-1], r.tiers[:len(r.tiers)-1]
	for _, p := range r.tiers[i] {
		go r.watchProcess(p)
	}
	return r.waitFor(ctx, 2*time.Minute, r.controlPlaneChecks())
}
