// Package kubeenv runs a real Kubernetes control plane for tests, without
// containers or nodes: etcd and kube-apiserver (and optionally
// kube-controller-manager, Dapr's sentry and Dapr's sidecar injector as a
// mutating webhook) as local processes on free loopback ports, everything in
// a temporary directory. The binaries are built from source by
// `tools/build.sh kube` (and `tools/build.sh dapr` for the Dapr parts)
// into .bin/.
//
// What it is good for: what the API server accepts (schemas, strict decoding
// of custom resources, admission), what controllers create from it
// (Deployments -> ReplicaSets -> Pods) and how Dapr's injector patches those
// Pods. Pods never run: there is no node, so they stay Pending.
package kubeenv

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options selects the parts beyond etcd and kube-apiserver.
type Options struct {
	// ControllerManager runs kube-controller-manager with the controllers
	// that turn Deployments into Pods (deployment, replicaset) and give every
	// namespace its default ServiceAccount. Controllers act as their own
	// service accounts (kube-system:replicaset-controller, ...), as on a real
	// cluster.
	ControllerManager bool
	// DaprInjector runs Dapr's sentry (standalone, it signs the injector's
	// serving certificate) and sidecar injector, registered as the
	// MutatingWebhookConfiguration "dapr-sidecar-injector" behind the Service
	// dapr-system/dapr-sidecar-injector, as Dapr's Helm chart does. Needs
	// ControllerManager to be useful (the injector only patches Pods created
	// by the controllers' service accounts).
	DaprInjector bool
	// Logf reports progress (t.Logf or log.Printf); nil is quiet.
	Logf func(format string, args ...any)
}

// Env is a running control plane. Stop it when done.
type Env struct {
	// Config reaches the API server as an admin (group system:masters).
	Config *rest.Config
	// Kubeconfig is a kubeconfig file with the same credentials.
	Kubeconfig string
	// Dir holds the certificates, data and logs; removed by Stop.
	Dir string
	// Root is the repository root.
	Root string
	// KubeVersion is the version of the control plane binaries (e.g. 1.34.4);
	// DaprVersion that of sentry and the injector, when started.
	KubeVersion, DaprVersion string
	// DaprNamespace is the injector's (control plane) namespace.
	DaprNamespace string

	opts    Options
	token   string
	etcdURL string
	pki     *pki
	procs   []*process
	egress  *egressProxy
	removed bool
}

const (
	serviceCIDR      = "10.0.0.0/24"
	serviceClusterIP = "10.0.0.1" // the "kubernetes" Service
	adminUser        = "kubeenv-admin"
)

// Start brings the control plane up and returns when the API server is ready
// (and, with the options, the controller manager and the injector). On error
// everything already started is stopped and the error carries the failing
// process's last log lines.
func Start(ctx context.Context, opts Options) (env *Env, err error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	kubeBin, kubeVersion, err := ToolDir(root, "kube")
	if err != nil {
		return nil, err
	}
	need := map[string][]string{kubeBin: {"etcd", "kube-apiserver"}}
	if opts.ControllerManager {
		need[kubeBin] = append(need[kubeBin], "kube-controller-manager")
	}
	var daprBin, injBin, daprVersion string
	if opts.DaprInjector {
		if daprBin, daprVersion, err = ToolDir(root, "dapr"); err != nil {
			return nil, err
		}
		injBin = daprBin
		need[daprBin] = []string{"sentry", "injector"}
	}
	if err := checkBinaries(root, need); err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "kubeenv-")
	if err != nil {
		return nil, err
	}
	e := &Env{Dir: dir, Root: root, KubeVersion: kubeVersion, DaprVersion: daprVersion, opts: opts}
	defer func() {
		if err != nil {
			e.Stop()
			env = nil
		}
	}()
	e.token = randomToken()
	if e.pki, err = writePKI(dir); err != nil {
		return e, err
	}
	if err = e.startEtcd(ctx, kubeBin); err != nil {
		return e, err
	}
	if err = e.startAPIServer(ctx, kubeBin); err != nil {
		return e, err
	}
	if opts.ControllerManager {
		if err = e.startControllerManager(ctx, kubeBin); err != nil {
			return e, err
		}
	}
	if opts.DaprInjector {
		if err = e.startDapr(ctx, daprBin, injBin); err != nil {
			return e, err
		}
	}
	return e, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (e *Env) path(name string) string { return filepath.Join(e.Dir, name) }

func (e *Env) logf(format string, args ...any) { e.opts.Logf(format, args...) }

// Stop ends every process (no process is left behind) and removes Dir.
// Processes get a second to exit on SIGTERM (kube-apiserver's graceful
// shutdown alone takes ~4 s; nothing here needs it), then SIGKILL.
// Safe to call more than once.
func (e *Env) Stop() {
	if e == nil {
		return
	}
	for i := len(e.procs) - 1; i >= 0; i-- {
		t0 := time.Now()
		e.procs[i].stop(time.Second)
		e.logf("kubeenv: stopped %s in %s", e.procs[i].name, time.Since(t0).Round(time.Millisecond))
	}
	if e.egress != nil {
		e.egress.close()
	}
	if !e.removed && os.Getenv("KUBEENV_KEEP") == "" {
		_ = os.RemoveAll(e.Dir)
		e.removed = true
	}
}

// Logs returns the last n lines of every process's log, for a failing test.
func (e *Env) Logs(n int) string {
	var b strings.Builder
	for _, p := range e.procs {
		state := "running"
		if p.exited() {
			state = fmt.Sprintf("exited: %v", p.err)
		}
		fmt.Fprintf(&b, "----- %s (%s), last %d lines of %s -----\n%s\n", p.name, state, n, p.log, p.tail(n))
	}
	return b.String()
}

// Exited reports processes that are no longer running (they should all be).
func (e *Env) Exited() error {
	var errs []error
	for _, p := range e.procs {
		if p.exited() {
			errs = append(errs, fmt.Errorf("%s exited: %v; last lines:\n%s", p.name, p.err, p.tail(30)))
		}
	}
	return errors.Join(errs...)
}

func (e *Env) startEtcd(ctx context.Context, bin string) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	p, err := e.start("etcd", filepath.Join(bin, "etcd"), []string{
		"--name=kubeenv",
		"--data-dir=" + e.path("etcd"),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=kubeenv=" + peer,
		"--unsafe-no-fsync", // throw-away data: no fsync, much faster on slow disks
		"--log-level=warn",
	}, nil)
	if err != nil {
		return err
	}
	e.etcdURL = client
	return p.waitFor(ctx, 30*time.Second, "health", httpOK(http.DefaultClient, client+"/health", ""))
}

func (e *Env) startAPIServer(ctx context.Context, bin string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	port := ports[0]
	tokens := e.path("tokens.csv")
	// token,user,uid,"group1,group2"
	if err := os.WriteFile(tokens, []byte(fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", e.token, adminUser, adminUser)), 0o600); err != nil {
		return err
	}
	args := []string{
		"--etcd-servers=" + e.etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + e.pki.certFile,
		"--tls-private-key-file=" + e.pki.keyFile,
		"--client-ca-file=" + e.pki.caFile,
		"--token-auth-file=" + tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + e.pki.saPubFile,
		"--service-account-signing-key-file=" + e.pki.saKeyFile,
		"--service-cluster-ip-range=" + serviceCIDR,
		// The "kubernetes" Service would get 127.0.0.1 as endpoint, which
		// Endpoints validation refuses; nothing here needs it.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}
	if e.opts.DaprInjector {
		cfg, err := e.startEgress()
		if err != nil {
			return err
		}
		args = append(args, "--egress-selector-config-file="+cfg)
	}
	p, err := e.start("kube-apiserver", filepath.Join(bin, "kube-apiserver"), args, nil)
	if err != nil {
		return err
	}
	host := fmt.Sprintf("https://127.0.0.1:%d", port)
	e.Config = &rest.Config{
		Host:            host,
		BearerToken:     e.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: e.pki.caPEM},
		QPS:             200,
		Burst:           400,
	}
	e.Kubeconfig = e.path("admin.kubeconfig")
	if err := e.writeKubeconfig(e.Kubeconfig); err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.pki.caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	// /readyz turns 200 once every post-start hook (RBAC bootstrap roles,
	// priority classes, CRD and API service controllers) has finished.
	if err := p.waitFor(ctx, 90*time.Second, "/readyz", httpOK(hc, host+"/readyz", e.token)); err != nil {
		return err
	}
	e.logf("kubeenv: kube-apiserver %s ready at %s", e.KubeVersion, host)
	return nil
}

func (e *Env) startEgress() (string, error) {
	sock := e.path("egress.sock")
	px, err := newEgressProxy(sock, e.logf)
	if err != nil {
		return "", err
	}
	e.egress = px
	cfg := e.path("egress-selector.yaml")
	err = os.WriteFile(cfg, []byte(`apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: `+sock+"\n"), 0o600)
	return cfg, err
}

func (e *Env) writeKubeconfig(path string) error {
	return os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubeenv
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: kubeenv
  context: {cluster: kubeenv, user: admin, namespace: default}
current-context: kubeenv
`, e.Config.Host, e.pki.caFile, e.token)), 0o600)
}

func (e *Env) startControllerManager(ctx context.Context, bin string) error {
	p, err := e.start("kube-controller-manager", filepath.Join(bin, "kube-controller-manager"), []string{
		"--kubeconfig=" + e.Kubeconfig,
		"--secure-port=0",
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + e.pki.saKeyFile,
		"--root-ca-file=" + e.pki.caFile,
		"--controllers=deployment-controller,replicaset-controller,serviceaccount-controller",
		"--kube-api-qps=200",
		"--kube-api-burst=400",
		"--concurrent-deployment-syncs=10",
		"--concurrent-replicaset-syncs=10",
	}, nil)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	// The serviceaccount controller gives every namespace a "default"
	// ServiceAccount; seeing it in "default" means the controllers run.
	err = p.waitFor(ctx, 60*time.Second, `the ServiceAccount default/default`, func(ctx context.Context) error {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
	if err == nil {
		e.logf("kubeenv: kube-controller-manager running")
	}
	return err
}

// RepoRoot is the repository root: the nearest parent of the working
// directory holding tools/build.sh.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "tools", "build.sh")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("kubeenv: no tools/build.sh above %s", dir)
		}
	}
}

// ToolDir returns where `tools/build.sh <name>` puts its binaries,
// .bin/<name>/<version>, and that version: the one tools/<name>/go.mod
// requires of the module named in tools/<name>/build.conf.
func ToolDir(root, name string) (dir, version string, err error) {
	conf, err := os.ReadFile(filepath.Join(root, "tools", name, "build.conf"))
	if err != nil {
		return "", "", fmt.Errorf("kubeenv: %w", err)
	}
	var module string
	for _, l := range strings.Split(string(conf), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "module="); ok {
			module = strings.Trim(strings.Fields(v + " ")[0], `"'`)
		}
	}
	if module == "" {
		return "", "", fmt.Errorf("kubeenv: tools/%s/build.conf names no module=", name)
	}
	version, err = ModuleVersion(filepath.Join(root, "tools", name, "go.mod"), module)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(root, ".bin", name, version), version, nil
}

// ModuleVersion returns the version (without "v") that a go.mod requires of module.
func ModuleVersion(gomod, module string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", fmt.Errorf("kubeenv: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[0] == "require" {
			fields = fields[1:]
		}
		if len(fields) >= 2 && fields[0] == module && strings.HasPrefix(fields[1], "v") {
			return strings.TrimPrefix(fields[1], "v"), nil
		}
	}
	return "", fmt.Errorf("kubeenv: %s does not require %s", gomod, module)
}

func checkBinaries(root string, need map[string][]string) error {
	var missing []string
	tools := map[string]bool{}
	for dir, bins := range need {
		for _, b := range bins {
			if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.Mode()&0o111 == 0 {
				rel, _ := filepath.Rel(root, filepath.Join(dir, b))
				missing = append(missing, rel)
				tools[filepath.Base(filepath.Dir(dir))] = true
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var cmds []string
	for _, t := range []string{"kube", "dapr"} {
		if tools[t] {
			cmds = append(cmds, "`tools/build.sh "+t+"`")
		}
	}
	return fmt.Errorf("kubeenv: %w: %s not built: run %s at the repository root", errMissing,
		strings.Join(missing, ", "), strings.Join(cmds, " and "))
}
