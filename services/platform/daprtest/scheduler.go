package daprtest

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// StartScheduler runs a Dapr scheduler (jobs, workflow timers) with its
// embedded etcd in a temporary folder, on free ports, and returns the
// address to pass as Options.SchedulerAddress. With a sentry, it serves TLS
// to sidecars that have theirs from it.
func StartScheduler(t testing.TB, sentry ...*Sentry) string {
	t.Helper()
	dir := t.TempDir()
	port, health := FreePort(t), FreePort(t)
	args := []string{
		"--port", strconv.Itoa(port), "--healthz-port", strconv.Itoa(health),
		"--metrics-port", strconv.Itoa(FreePort(t)),
		"--listen-address", "127.0.0.1", "--healthz-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1",
		"--override-broadcast-host-port", "localhost:" + strconv.Itoa(port),
		"--etcd-data-dir", filepath.Join(dir, "data"),
		"--etcd-client-port", strconv.Itoa(FreePort(t)),
	}
	scheme := "http"
	if len(sentry) > 0 && sentry[0] != nil {
		scheme = "https"
		args = append(args, sentry[0].controlPlaneFlags()...)
		args = append(args, "--identity-directory-write", filepath.Join(dir, "identity"))
	}
	args = append(args, "--etcd-initial-cluster", "dapr-scheduler-server-0="+scheme+"://localhost:"+strconv.Itoa(FreePort(t)))
	bin := filepath.Join(filepath.Dir(DaprdPath(t)), "scheduler")
	logPath := filepath.Join(dir, "scheduler.log")
	stop, exited := startProcess(t, "scheduler", bin, args, nil, logPath)
	t.Cleanup(stop)
	if err := waitHealthy(fmt.Sprintf("http://127.0.0.1:%d/healthz", health), 60*time.Second, exited); err != nil {
		t.Fatalf("scheduler did not become healthy: %v\n%s", err, tail(logPath, 40))
	}
	return "localhost:" + strconv.Itoa(port)
}
