package runner_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
)

func start(t *testing.T) (*runner.Run, *runner.Buffer) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the whole topology")
	}
	out := &runner.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := runner.Start(ctx, runner.Options{
		RunFile:   filepath.Join("..", "..", "..", "dapr.yaml"),
		FreePorts: true,
		StateDir:  t.TempDir(),
		Out:       out,
	})
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	t.Cleanup(r.Stop)
	return r, out
}

func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestStopLeavesNoProcessBehind(t *testing.T) {
	r, _ := start(t)
	pids := r.PIDs()
	for _, name := range []string{"placement", "scheduler", "gateway", "gateway-dapr", "user", "user-dapr", "product-dapr", "order", "order-dapr", "payment-dapr", "notification", "notification-dapr"} {
		if pid, ok := pids[name]; !ok || !alive(pid) {
			t.Fatalf("%s is not running (pids %v)", name, pids)
		}
	}
	r.Stop()
	for name, pid := range pids {
		// Reaped children vanish; a zombie or a survivor would still answer.
		if alive(pid) {
			t.Errorf("%s (pid %d) survived Stop", name, pid)
		}
	}
}

func TestACrashIsReportedWithTheProcessName(t *testing.T) {
	r, _ := start(t)
	if err := syscall.Kill(r.PIDs()["user"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.Failed():
		if !strings.HasPrefix(err.Error(), "user exited (signal: killed)") {
			t.Fatalf("report %q does not say which process died and how", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a killed app went unreported")
	}
}

// `devrun infra` (Tilt's control-plane resource) starts the stand-ins a
// profile needs, since it is the one process of the topology that lives
// as long as it; the `devrun app` runs beside it start none.
func TestInfraStartsTheProfilesStandIns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the control plane and a stand-in")
	}
	out := &runner.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := runner.Start(ctx, runner.Options{
		RunFile: filepath.Join("..", "..", "..", "dapr.yaml"), NoApps: true, FreePorts: true,
		Profiles: []string{"kafka"}, StateDir: t.TempDir(), Out: out,
	})
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	defer r.Stop()
	if _, ok := r.PIDs()["kfake"]; !ok {
		t.Fatalf("no kafka stand-in beside the control plane: %v\n%s", r.PIDs(), out)
	}
	if !strings.Contains(out.String(), "not a Kafka cluster") {
		t.Errorf("the stand-in was not labelled as one:\n%s", out)
	}
}
