package kubeenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestStartStop: etcd and kube-apiserver come up, answer as the admin, and
// leave neither a process nor a file behind.
func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a Kubernetes API server")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	env, err := Start(ctx, Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			if t.Failed() {
				t.Log(env.Logs(30))
			}
			env.Stop()
		}
	})
	t.Logf("ready in %s", time.Since(start).Round(time.Millisecond))

	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != "v"+env.KubeVersion {
		t.Errorf("server version %q, want v%s (stamped by tools/kube/build.conf)", v.GitVersion, env.KubeVersion)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err != nil {
		t.Errorf("kube-system: %v", err)
	}
	// RBAC is on: an unknown token is refused.
	bad := *env.Config
	bad.BearerToken = "not-the-token"
	if _, err := kubernetes.NewForConfigOrDie(&bad).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("a wrong token was accepted")
	}

	pids := map[string]int{}
	for _, p := range env.procs {
		pids[p.name] = p.cmd.Process.Pid
	}
	env.Stop()
	stopped = true
	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still there after Stop: %v", name, pid, err)
		}
	}
	if _, err := os.Stat(env.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left behind: %v", env.Dir, err)
	}
}

func TestMissingBinaries(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"tools/build.sh":        "",
		"tools/kube/build.conf": "module=k8s.io/kubernetes\n",
		"tools/kube/go.mod":     "module x\n\nrequire (\n\tk8s.io/kubernetes v1.34.4\n)\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir, version, err := ToolDir(root, "kube")
	if err != nil || version != "1.34.4" || dir != filepath.Join(root, ".bin/kube/1.34.4") {
		t.Fatalf("ToolDir = %q, %q, %v", dir, version, err)
	}
	err = checkBinaries(root, map[string][]string{dir: {"etcd", "kube-apiserver"}})
	if !errors.Is(err, errMissing) {
		t.Fatalf("want a missing-binary error, got %v", err)
	}
	if want := "run `tools/build.sh kube`"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %s", err, want)
	}
}
