package kube_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/daprshop/test/kube/kubeenv"
)

// One control plane for the whole test binary: etcd, kube-apiserver,
// kube-controller-manager, Dapr's sentry and sidecar injector, with Dapr's
// CRDs installed. Tests isolate themselves by namespace.
var (
	setupOnce sync.Once
	shared    *cluster
	setupErr  error
)

type cluster struct {
	env     *kubeenv.Env
	cs      kubernetes.Interface
	dyn     dynamic.Interface
	daprDir string   // the Dapr module's source, at the version of tools/dapr
	crds    []string // installed, "name (versions, storage version)"
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if shared != nil && shared.env != nil {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "\ncontrol plane logs (a test failed):\n%s", shared.env.Logs(25))
		}
		shared.env.Stop()
	}
	os.Exit(code)
}

// getCluster returns the shared control plane, starting it on first use.
// It fails (never skips) when the binaries are missing, except under -short.
func getCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: these tests start a Kubernetes control plane")
	}
	setupOnce.Do(func() { shared, setupErr = setup() })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	if err := shared.env.Exited(); err != nil {
		t.Fatalf("control plane process died: %v", err)
	}
	return shared
}

func logf(format string, args ...any) {
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

func setup() (*cluster, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	env, err := kubeenv.Start(ctx, kubeenv.Options{ControllerManager: true, DaprInjector: true, Logf: logf})
	if err != nil {
		return nil, err
	}
	c := &cluster{env: env}
	shared = c // stopped by TestMain even if the rest fails
	logf("control plane up in %s", time.Since(start).Round(time.Millisecond))
	if c.cs, err = kubernetes.NewForConfig(env.Config); err != nil {
		return c, err
	}
	if c.dyn, err = dynamic.NewForConfig(env.Config); err != nil {
		return c, err
	}
	if c.daprDir, err = daprModuleDir(env.Root); err != nil {
		return c, err
	}
	t0 := time.Now()
	if err := c.installDaprCRDs(ctx); err != nil {
		return c, err
	}
	logf("Dapr %s CRDs established in %s: %s", env.DaprVersion, time.Since(t0).Round(time.Millisecond), strings.Join(c.crds, "; "))
	return c, nil
}

// daprModuleDir is the source of the Dapr module that tools/dapr pins (the
// runtime this repository runs), from the module cache; its CRDs are under
// charts/dapr/crds.
func daprModuleDir(root string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/dapr/dapr")
	cmd.Dir = filepath.Join(root, "tools", "dapr")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("locating the Dapr module of tools/dapr: %w", err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", err
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go mod download github.com/dapr/dapr: %s", m.Error)
	}
	return m.Dir, nil
}

func (c *cluster) installDaprCRDs(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(c.daprDir, "charts", "dapr", "crds", "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs under %s/charts/dapr/crds (%v)", c.daprDir, err)
	}
	ext, err := apiextclient.NewForConfig(c.env.Config)
	if err != nil {
		return err
	}
	var crds []*apiextv1.CustomResourceDefinition
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, doc := range splitYAML(string(b)) {
			crd := new(apiextv1.CustomResourceDefinition)
			if err := yaml.UnmarshalStrict([]byte(doc), crd); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			// Subscriptions convert between v1alpha1 and v2alpha1 through a
			// webhook of Dapr's operator (its Helm chart patches in the
			// namespace, "replaceme" in the file, and the caBundle). No
			// operator runs here: without this, every stored Subscription
			// fails conversion for the v1alpha1 watch cache and floods the
			// API server's log. Objects are read back in the version they
			// were written in, so nothing the test checks converts.
			if cv := crd.Spec.Conversion; cv != nil && cv.Strategy == apiextv1.WebhookConverter {
				crd.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.NoneConverter}
			}
			created, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{FieldValidation: "Strict"})
			if err != nil {
				return fmt.Errorf("the API server refused Dapr's CRD %s (%s): %w", crd.Name, filepath.Base(f), err)
			}
			crds = append(crds, created)
		}
	}
	for _, crd := range crds {
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			got, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, cond := range got.Status.Conditions {
				if cond.Type == apiextv1.Established && cond.Status == apiextv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not Established: %w", crd.Name, err)
		}
		var versions []string
		storage := ""
		for _, v := range crd.Spec.Versions {
			if v.Served {
				versions = append(versions, v.Name)
			}
			if v.Storage {
				storage = v.Name
			}
		}
		c.crds = append(c.crds, fmt.Sprintf("%s (served %s, stored %s)", crd.Name, strings.Join(versions, ","), storage))
	}
	sort.Strings(c.crds)
	// Established is not yet discoverable: wait until discovery lists every
	// served version's resource, as Helm's REST mapper will look there.
	disc, err := discovery.NewDiscoveryClientForConfig(c.env.Config)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			gv := crd.Spec.Group + "/" + v.Name
			err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
				rl, err := disc.ServerResourcesForGroupVersion(gv)
				if err != nil {
					return false, nil
				}
				for _, r := range rl.APIResources {
					if r.Name == crd.Spec.Names.Plural {
						return true, nil
					}
				}
				return false, nil
			})
			if err != nil {
				return fmt.Errorf("%s %s not in discovery: %w", gv, crd.Spec.Names.Plural, err)
			}
		}
	}
	return nil
}

// restMapper is built from fresh discovery (after the CRDs).
func (c *cluster) restMapper() meta.RESTMapper {
	disc := memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(c.env.Config))
	return restmapper.NewDeferredDiscoveryRESTMapper(disc)
}

// namespace creates a namespace named prefix-<n>, unique in this test
// binary (so -count=N works), and waits for its default ServiceAccount (the
// controller manager's serviceaccount controller makes it; Pods need it).
func (c *cluster) namespace(t *testing.T, prefix string) string {
	t.Helper()
	ctx := t.Context()
	ns := fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))
	_, err := c.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := c.cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("namespace %s got no default ServiceAccount: %v", ns, err)
	}
	return ns
}

var nsCounter atomic.Int64

// helmGetter hands Helm's SDK the test's API server (no kubeconfig on disk,
// no discovery cache in $HOME) and makes every write strictly validated.
//
// Helm 3 builds its requests like `kubectl create` but never sets
// fieldValidation, so the API server applies its default, Warn: an unknown
// field in a custom resource is dropped from the stored object with only a
// warning, and a typo in a Dapr Component or Resiliency installs "fine" and
// does nothing. `kubectl apply` and `kubectl create` default to Strict; so
// does this test (see TestStrictDecoding).
type helmGetter struct {
	cfg    *rest.Config
	ns     string
	disc   discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
}

func newHelmGetter(cfg *rest.Config, ns string, strict bool) *helmGetter {
	cfg = rest.CopyConfig(cfg)
	if strict {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return strictValidation{rt} })
	}
	disc := memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg))
	return &helmGetter{cfg: cfg, ns: ns, disc: disc, mapper: restmapper.NewDeferredDiscoveryRESTMapper(disc)}
}

func (g *helmGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }
func (g *helmGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.disc, nil
}
func (g *helmGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }
func (g *helmGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(),
		&clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.ns}})
}

// strictValidation asks the API server to refuse unknown and duplicate
// fields on every create, update and patch, as `kubectl apply` does.
type strictValidation struct{ rt http.RoundTripper }

func (s strictValidation) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		if q := r.URL.Query(); q.Get("fieldValidation") == "" {
			r = r.Clone(r.Context())
			q.Set("fieldValidation", metav1.FieldValidationStrict)
			r.URL.RawQuery = q.Encode()
		}
	}
	return s.rt.RoundTrip(r)
}

// splitYAML splits a multi-document YAML stream, dropping empty documents.
func splitYAML(s string) []string {
	var docs []string
	for _, d := range strings.Split("\n"+s, "\n---") {
		if trimmed := strings.TrimSpace(stripComments(d)); trimmed != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
