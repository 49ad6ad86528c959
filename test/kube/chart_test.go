package kube_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/strvals"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

// The chart's values profiles. Each one is installed, with the Helm SDK, into
// a namespace of its own; set holds `helm install --set` entries (profile
// choice, secrets, anything else a profile needs).
//
// A profile whose set names a top-level value that the chart's values.yaml
// does not declare yet (today: profile=...) is skipped with a message, so the
// table can list what the chart is about to support.
var profiles = []struct {
	name string
	set  []string
}{
	{name: "redis"}, // the chart's defaults
	{name: "postgres-rabbitmq", set: []string{"profile=postgres-rabbitmq"}},
	{name: "nats", set: []string{"profile=nats"}},
	{name: "kafka", set: []string{"profile=kafka"}},
	{name: "mqtt", set: []string{"profile=mqtt"}},
}

// chartDir is deploy/helm/daprshop, or $DAPRSHOP_CHART.
func chartDir(root string) string {
	if d := os.Getenv("DAPRSHOP_CHART"); d != "" {
		return d
	}
	return filepath.Join(root, "deploy", "helm", "daprshop")
}

// TestChart installs the chart once per values profile against a real API
// server (strict field validation, admission, Dapr's CRDs) and checks that
// the API server kept every rendered object, that the controllers turned each
// Deployment into Pods, and that Dapr's injector gave every Pod a daprd
// sidecar configured as its annotations say.
func TestChart(t *testing.T) {
	c := getCluster(t)
	dir := chartDir(c.env.Root)
	chrt, err := loader.Load(dir)
	if err != nil {
		t.Fatalf("load chart %s: %v", dir, err)
	}
	known := daprAnnotations(t, c.daprDir)
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			for _, s := range p.set {
				key := strings.SplitN(strings.SplitN(s, "=", 2)[0], ".", 2)[0]
				if _, ok := chrt.Values[key]; !ok {
					t.Skipf("the chart's values.yaml declares no %q yet (for --set %s)", key, s)
				}
			}
			t.Parallel()
			start := time.Now()
			vals := map[string]any{}
			for _, s := range p.set {
				if err := strvals.ParseInto(s, vals); err != nil {
					t.Fatalf("--set %s: %v", s, err)
				}
			}
			ns := c.namespace(t, "daprshop-"+p.name)
			rel := helmInstall(t, c, ns, chrt, vals)
			objs := manifestObjects(t, rel)
			t.Logf("profile %s: the API server accepted %d objects: %s", p.name, len(objs), summary(objs))
			checkEveryApp(t, c.env.Root, objs)
			c.getBack(t, ns, objs)
			c.checkPods(t, ns, objs, known)
			t.Logf("profile %s checked in %s", p.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// helmInstall is `helm install daprshop <chart> -n ns --set ...`, with every
// write strictly validated by the API server.
func helmInstall(t *testing.T, c *cluster, ns string, chrt *chart.Chart, vals map[string]any) *release.Release {
	t.Helper()
	cfg := new(action.Configuration)
	if err := cfg.Init(newHelmGetter(c.env.Config, ns, true), ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(cfg)
	install.ReleaseName = "daprshop"
	install.Namespace = ns
	install.Timeout = time.Minute
	rel, err := install.Run(chrt, vals)
	if err != nil {
		t.Fatalf("helm install into %s: the API server refused the chart:\n%v", ns, err)
	}
	return rel
}

func manifestObjects(t *testing.T, rel *release.Release) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, doc := range splitYAML(rel.Manifest) {
		obj := new(unstructured.Unstructured)
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatalf("rendered manifest: %v\n%s", err, doc)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
	if len(objs) == 0 {
		t.Fatal("the chart rendered no objects")
	}
	if len(rel.Hooks) > 0 {
		t.Logf("note: %d hooks are not read back (they may be deleted by their policies)", len(rel.Hooks))
	}
	return objs
}

func summary(objs []*unstructured.Unstructured) string {
	count := map[string]int{}
	for _, o := range objs {
		count[o.GetKind()]++
	}
	var parts []string
	for k, n := range count {
		parts = append(parts, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// getBack reads every rendered object back from the API server.
func (c *cluster) getBack(t *testing.T, ns string, objs []*unstructured.Unstructured) {
	t.Helper()
	mapper := c.restMapper()
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Errorf("%s %s: no such resource on the API server: %v", gvk, o.GetName(), err)
			continue
		}
		r := c.dyn.Resource(m.Resource)
		var got *unstructured.Unstructured
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			got, err = r.Namespace(ns).Get(t.Context(), o.GetName(), metav1.GetOptions{})
		} else {
			got, err = r.Get(t.Context(), o.GetName(), metav1.GetOptions{})
		}
		if err != nil {
			t.Errorf("%s %s: not stored: %v", gvk.Kind, o.GetName(), err)
			continue
		}
		if got.GetUID() == "" || got.GetKind() != gvk.Kind {
			t.Errorf("%s %s: read back as %s with uid %q", gvk.Kind, o.GetName(), got.GetKind(), got.GetUID())
		}
	}
}

// checkPods waits for the Pods of every rendered Deployment and checks the
// sidecar Dapr's injector added to each.
func (c *cluster) checkPods(t *testing.T, ns string, objs []*unstructured.Unstructured, known map[string]bool) {
	t.Helper()
	r := rendered{secretKeys: map[string][]string{}}
	for _, o := range objs {
		switch o.GetKind() {
		case "Component":
			typ, _, _ := unstructured.NestedString(o.Object, "spec", "type")
			scopes, _, _ := unstructured.NestedStringSlice(o.Object, "scopes")
			r.components = append(r.components, component{name: o.GetName(), typ: typ, scopes: scopes})
		case "Secret":
			for _, field := range []string{"data", "stringData"} {
				m, _, _ := unstructured.NestedMap(o.Object, field)
				for k := range m {
					r.secretKeys[o.GetName()] = append(r.secretKeys[o.GetName()], k)
				}
			}
		}
	}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
			t.Errorf("Deployment %s: %v", o.GetName(), err)
			continue
		}
		pods, err := c.waitPods(t.Context(), ns, &d)
		if err != nil {
			t.Errorf("Deployment %s: %v", d.Name, err)
			continue
		}
		for i, pod := range pods {
			if i == 0 {
				t.Logf("%s: %s", d.Name, describeContainers(&pod))
			}
			for _, problem := range checkSidecar(&pod, known, r) {
				t.Errorf("Deployment %s, Pod %s: %s", d.Name, pod.Name, problem)
			}
		}
	}
}

// waitPods waits until the Deployment's ReplicaSet has created all its Pods
// (they stay Pending: there is no node). When it cannot, the error carries
// what the ReplicaSet says, e.g. a Pod refused by admission.
func (c *cluster) waitPods(ctx context.Context, ns string, d *appsv1.Deployment) ([]corev1.Pod, error) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	var pods []corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := c.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return false, err
		}
		pods = l.Items
		return int32(len(pods)) >= want, nil
	})
	if err == nil {
		return pods, nil
	}
	var why []string
	rss, _ := c.cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	for _, rs := range rss.Items {
		for _, cond := range rs.Status.Conditions {
			why = append(why, fmt.Sprintf("ReplicaSet %s %s: %s", rs.Name, cond.Type, cond.Message))
		}
	}
	evs, _ := c.cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	for _, ev := range evs.Items {
		if ev.Type == corev1.EventTypeWarning {
			why = append(why, fmt.Sprintf("event %s/%s %s: %s", ev.InvolvedObject.Kind, ev.InvolvedObject.Name, ev.Reason, ev.Message))
		}
	}
	if len(rss.Items) == 0 {
		why = append(why, "no ReplicaSet was created")
	}
	return nil, fmt.Errorf("%d of %d Pods after 30s (%v):\n  %s", len(pods), want, err, strings.Join(why, "\n  "))
}

// daprAnnotations lists the pod annotations Dapr's injector reads, from the
// source of the Dapr version tools/dapr pins.
func daprAnnotations(t *testing.T, daprDir string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(daprDir, "pkg", "injector", "annotations", "annotations.go"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`=\s*"(dapr\.io/[a-z0-9.-]+)"`).FindAllStringSubmatch(string(b), -1) {
		known[m[1]] = true
	}
	if len(known) < 30 {
		t.Fatalf("found only %d annotation keys in Dapr's annotations.go; has the file moved?", len(known))
	}
	return known
}

// The daprd flags each annotation turns into (Dapr's
// pkg/injector/patcher/sidecar_container.go). value: "--flag <annotation>";
// switch: "--flag" present exactly when the annotation is "true".
var annotationFlags = []struct {
	annotation, flag string
	isSwitch         bool
}{
	{"dapr.io/app-id", "--app-id", false},
	{"dapr.io/app-port", "--app-port", false},
	{"dapr.io/config", "--config", false},
	{"dapr.io/app-protocol", "--app-protocol", false},
	{"dapr.io/log-level", "--log-level", false},
	{"dapr.io/log-as-json", "--log-as-json", true},
	{"dapr.io/enable-metrics", "--enable-metrics", true},
	{"dapr.io/metrics-port", "--metrics-port", false},
	{"dapr.io/enable-app-health-check", "--enable-app-health-check", true},
	{"dapr.io/app-health-check-path", "--app-health-check-path", false},
	{"dapr.io/app-health-probe-interval", "--app-health-probe-interval", false},
	{"dapr.io/app-health-probe-timeout", "--app-health-probe-timeout", false},
	{"dapr.io/app-health-threshold", "--app-health-threshold", false},
	{"dapr.io/app-max-concurrency", "--app-max-concurrency", false},
	{"dapr.io/graceful-shutdown-seconds", "--dapr-graceful-shutdown-seconds", false},
	{"dapr.io/block-shutdown-duration", "--dapr-block-shutdown-duration", false},
	{"dapr.io/http-max-request-size", "--dapr-http-max-request-size", false},
	{"dapr.io/max-body-size", "--max-body-size", false},
	{"dapr.io/placement-host-address", "--placement-host-address", false},
	{"dapr.io/scheduler-host-address", "--scheduler-host-address", false},
	{"dapr.io/enable-profiling", "--enable-profiling", true},
	{"dapr.io/disable-builtin-k8s-secret-store", "--disable-builtin-k8s-secret-store", true},
}

// Flags that exist only with their switch on.
var flagNeeds = map[string]string{
	"dapr.io/metrics-port":              "dapr.io/enable-metrics",
	"dapr.io/app-health-check-path":     "dapr.io/enable-app-health-check",
	"dapr.io/app-health-probe-interval": "dapr.io/enable-app-health-check",
	"dapr.io/app-health-probe-timeout":  "dapr.io/enable-app-health-check",
	"dapr.io/app-health-threshold":      "dapr.io/enable-app-health-check",
}

// What of the rendered manifest the Pod checks need.
type rendered struct {
	components []component
	secretKeys map[string][]string // Secret name -> its keys
}

type component struct {
	name, typ string
	scopes    []string
}

// The sidecar resources each annotation sets.
var resourceAnnotations = []struct {
	annotation string
	limit      bool
	name       corev1.ResourceName
}{
	{"dapr.io/sidecar-cpu-request", false, corev1.ResourceCPU},
	{"dapr.io/sidecar-cpu-limit", true, corev1.ResourceCPU},
	{"dapr.io/sidecar-memory-request", false, corev1.ResourceMemory},
	{"dapr.io/sidecar-memory-limit", true, corev1.ResourceMemory},
}

const saTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// checkSidecar returns what is wrong with a Pod as Dapr's injector patched
// it: no daprd, daprd flags or resources that do not follow the
// annotations, annotations Dapr does not know (typos are silently ignored by
// the injector), ports clashing between the app and daprd, an app whose
// APP_ID/APP_PORT or port disagree with what daprd was told, duplicate
// environment variables, an app token secret without the key "token", and a
// daprd that needs the Kubernetes API (its built-in Kubernetes secret store,
// a secretstores.kubernetes component) but gets no service-account token.
func checkSidecar(pod *corev1.Pod, known map[string]bool, r rendered) []string {
	var problems []string
	ann := pod.Annotations
	if ann["dapr.io/enabled"] != "true" {
		return []string{"no dapr.io/enabled: \"true\" annotation: no sidecar is injected"}
	}
	for k := range ann {
		if strings.HasPrefix(k, "dapr.io/") && !known[k] {
			problems = append(problems, fmt.Sprintf("annotation %s is not one Dapr's injector reads (typo?)", k))
		}
	}
	i := slices.IndexFunc(pod.Spec.Containers, func(c corev1.Container) bool { return c.Name == "daprd" })
	if i < 0 {
		i = slices.IndexFunc(pod.Spec.InitContainers, func(c corev1.Container) bool { return c.Name == "daprd" })
		if i < 0 {
			return append(problems, "no daprd container: the injector did not patch the Pod")
		}
		return append(problems, "daprd injected as a native sidecar (init container); this test expects a container")
	}
	daprd := pod.Spec.Containers[i]
	args := append(slices.Clone(daprd.Command), daprd.Args...)
	has := func(flag string) bool { return slices.Contains(args, flag) }
	valueOf := func(flag string) (string, bool) {
		j := slices.Index(args, flag)
		if j < 0 || j+1 >= len(args) {
			return "", false
		}
		return args[j+1], true
	}
	for _, f := range annotationFlags {
		v, ok := ann[f.annotation]
		if !ok {
			continue
		}
		if need, dep := flagNeeds[f.annotation]; dep && ann[need] != "true" {
			problems = append(problems, fmt.Sprintf("annotation %s=%q has no effect without %s: \"true\"", f.annotation, v, need))
			continue
		}
		if f.isSwitch {
			on, err := strconv.ParseBool(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("annotation %s=%q is not a boolean", f.annotation, v))
			} else if has(f.flag) != on {
				problems = append(problems, fmt.Sprintf("annotation %s=%q but daprd flag %s present=%v", f.annotation, v, f.flag, has(f.flag)))
			}
			continue
		}
		if got, ok := valueOf(f.flag); !ok || got != v {
			problems = append(problems, fmt.Sprintf("annotation %s=%q but daprd has %s %q", f.annotation, v, f.flag, got))
		}
	}
	if !has("--enable-mtls") || !slices.Contains(args, "kubernetes") {
		problems = append(problems, fmt.Sprintf("daprd is not in Kubernetes mode with mTLS: %q", args))
	}
	for _, ra := range resourceAnnotations {
		v, ok := ann[ra.annotation]
		if !ok {
			continue
		}
		want, err := resource.ParseQuantity(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("annotation %s=%q is not a quantity: %v", ra.annotation, v, err))
			continue
		}
		list := daprd.Resources.Requests
		if ra.limit {
			list = daprd.Resources.Limits
		}
		if got, ok := list[ra.name]; !ok || got.Cmp(want) != 0 {
			problems = append(problems, fmt.Sprintf("annotation %s=%q but daprd has %s %s", ra.annotation, v, ra.name, got.String()))
		}
	}

	// The Kubernetes API from daprd: its built-in Kubernetes secret store
	// (unless disabled) and any secretstores.kubernetes component in scope
	// initialise a client from the Pod's service-account token. daprd gets
	// that token only from the ServiceAccount admission plugin (the injector
	// mounts just its sentry token); automountServiceAccountToken: false
	// leaves it without one, and a component that cannot initialise stops
	// daprd at start.
	if !slices.ContainsFunc(daprd.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == saTokenPath }) {
		var needs []string
		if ann["dapr.io/disable-builtin-k8s-secret-store"] != "true" {
			needs = append(needs, "its built-in Kubernetes secret store")
		}
		for _, comp := range r.components {
			if comp.typ == "secretstores.kubernetes" && (len(comp.scopes) == 0 || slices.Contains(comp.scopes, appIDOf(pod))) {
				needs = append(needs, fmt.Sprintf("component %s (%s)", comp.name, comp.typ))
			}
		}
		if len(needs) > 0 {
			why := "no service-account token is mounted at " + saTokenPath
			if a := pod.Spec.AutomountServiceAccountToken; a != nil && !*a {
				why = "the Pod sets automountServiceAccountToken: false, so no service-account token is mounted"
			}
			verb := "needs"
			if len(needs) > 1 {
				verb = "need"
			}
			problems = append(problems, fmt.Sprintf("daprd cannot reach the Kubernetes API (%s), which %s %s: daprd exits at start when a component fails to initialise",
				why, strings.Join(needs, " and "), verb))
		}
	}

	// The app API token: read from the secret's key "token".
	if name, ok := ann["dapr.io/app-token-secret"]; ok {
		if keys, rendered := r.secretKeys[name]; rendered && !slices.Contains(keys, "token") {
			problems = append(problems, fmt.Sprintf("dapr.io/app-token-secret %s: the chart's Secret %s has no key \"token\" (keys %v)", name, name, keys))
		}
	}
	for _, c := range pod.Spec.Containers {
		seen := map[string]bool{}
		for _, e := range c.Env {
			if seen[e.Name] {
				problems = append(problems, fmt.Sprintf("container %s has environment variable %s twice (the last wins)", c.Name, e.Name))
			}
			seen[e.Name] = true
		}
	}

	// Ports: the app's and daprd's must not collide.
	seen := map[int32]string{}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if other, dup := seen[p.ContainerPort]; dup {
				problems = append(problems, fmt.Sprintf("port %d used by both %s and %s", p.ContainerPort, other, c.Name))
			}
			seen[p.ContainerPort] = c.Name
		}
	}

	// The app container(s) must agree with what daprd calls.
	appID, appPort := ann["dapr.io/app-id"], ann["dapr.io/app-port"]
	for _, c := range pod.Spec.Containers {
		if c.Name == "daprd" {
			continue
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if v, ok := env["APP_ID"]; ok && appID != "" && v != appID {
			problems = append(problems, fmt.Sprintf("container %s has APP_ID=%q but dapr.io/app-id is %q", c.Name, v, appID))
		}
		if v, ok := env["APP_PORT"]; ok && appPort != "" && v != appPort {
			problems = append(problems, fmt.Sprintf("container %s listens on APP_PORT=%q but dapr.io/app-port is %q", c.Name, v, appPort))
		}
		if appPort != "" && len(c.Ports) > 0 && !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
			return strconv.Itoa(int(p.ContainerPort)) == appPort
		}) {
			problems = append(problems, fmt.Sprintf("container %s declares no port %s (dapr.io/app-port)", c.Name, appPort))
		}
		if _, ok := env["DAPR_HTTP_PORT"]; !ok {
			problems = append(problems, fmt.Sprintf("container %s did not get DAPR_HTTP_PORT from the injector", c.Name))
		}
	}
	return problems
}

func appIDOf(pod *corev1.Pod) string {
	if id := pod.Annotations["dapr.io/app-id"]; id != "" {
		return id
	}
	return pod.Name
}

func describeContainers(pod *corev1.Pod) string {
	var parts []string
	for _, c := range pod.Spec.Containers {
		parts = append(parts, fmt.Sprintf("[%s %s %s]", c.Name, c.Image, strings.Join(append(slices.Clone(c.Command), c.Args...), " ")))
	}
	return strings.Join(parts, " ")
}

// checkEveryApp checks that every app of dapr.yaml (the Go services and the
// Node.js reviews) is a Deployment of the chart, so that the Pod checks
// below cover each one.
func checkEveryApp(t *testing.T, root string, objs []*unstructured.Unstructured) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Apps []struct {
			AppID string `json:"appID"`
		} `json:"apps"`
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	if len(rf.Apps) == 0 {
		t.Fatal("dapr.yaml lists no apps")
	}
	for _, a := range rf.Apps {
		if !slices.ContainsFunc(objs, func(o *unstructured.Unstructured) bool {
			id, _, _ := unstructured.NestedString(o.Object, "spec", "template", "metadata", "annotations", "dapr.io/app-id")
			return o.GetKind() == "Deployment" && id == a.AppID
		}) {
			t.Errorf("dapr.yaml app %s: no Deployment with dapr.io/app-id %q", a.AppID, a.AppID)
		}
	}
}
