package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	componentsapi "github.com/dapr/dapr/pkg/apis/components/v1alpha1"
	subscriptionsv2 "github.com/dapr/dapr/pkg/apis/subscriptions/v2alpha1"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

var chartDir = filepath.Join(repoRoot, "deploy", "helm", "daprshop")

// ChartProfiles are the chart's profiles (values.profiles), each rendered,
// linted and checked.
var ChartProfiles = []string{"redis", "postgres-rabbitmq", "nats", "kafka", "mqtt"}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load %s: %v", chartDir, err)
	}
	return c
}

// render renders the chart for a profile as `helm template` would, and
// returns its documents.
func render(t *testing.T, c *chart.Chart, profile string) []Doc {
	t.Helper()
	vals, err := chartutil.ToRenderValues(c, map[string]any{"profile": profile},
		chartutil.ReleaseOptions{Name: "shop", Namespace: "shop", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(c, vals)
	if err != nil {
		t.Fatalf("render %s: %v", profile, err)
	}
	var docs []Doc
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") {
			continue
		}
		d, err := SplitYAML([]byte(out[n]))
		if err != nil {
			t.Fatalf("%s (%s): %v\n%s", n, profile, err, out[n])
		}
		docs = append(docs, d...)
	}
	return docs
}

func TestChartLintsForEveryProfile(t *testing.T) {
	for _, p := range ChartProfiles {
		t.Run(p, func(t *testing.T) {
			res := action.NewLint().Run([]string{chartDir}, map[string]any{"profile": p})
			for _, m := range res.Messages {
				t.Logf("lint: %s", m)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("lint errors: %v", res.Errors)
			}
		})
	}
	// A local-only profile is refused, with the ones that exist.
	c := loadChart(t)
	vals, err := chartutil.ToRenderValues(c, map[string]any{"profile": "sqlite"}, chartutil.ReleaseOptions{Name: "x", Namespace: "x"}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Render(c, vals); err == nil || !strings.Contains(err.Error(), "not one of") {
		t.Errorf("profile sqlite rendered: %v", err)
	}
}

// strictK8s decodes Kubernetes objects refusing unknown and duplicate fields.
var strictK8s = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// TestChartRendersStrictlyForEveryProfile renders every profile and decodes
// each object strictly: Dapr resources into Dapr's types, Kubernetes objects
// into client-go's. Then it checks the wiring between them.
func TestChartRendersStrictlyForEveryProfile(t *testing.T) {
	c := loadChart(t)
	runFile := readRunFile(t)
	for _, p := range ChartProfiles {
		t.Run(p, func(t *testing.T) {
			docs := render(t, c, p)
			w := wiring{profile: p}
			for _, d := range docs {
				if d.IsDapr() {
					if err := DecodeDaprStrict(d); err != nil {
						t.Errorf("%s: %v", d, err)
					}
					if err := CheckMetadataItems(d); err != nil {
						t.Errorf("%s: %v", d, err)
					}
				} else if _, _, err := strictK8s.Decode(d.JSON, nil, nil); err != nil {
					t.Errorf("%s: %v", d, err)
				}
				w.add(t, d)
			}
			w.check(t, runFile, c.Values)
			t.Logf("%d objects: %s", len(docs), w.summary())
		})
	}
}

// wiring collects what must agree across the rendered objects.
type wiring struct {
	profile       string
	deployments   map[string]*appsv1.Deployment
	services      map[string]*corev1.Service
	secrets       map[string]bool
	configs       map[string]bool
	components    map[string]*componentsapi.Component
	subscriptions []*subscriptionsv2.Subscription
	hpas          []*autoscalingv2.HorizontalPodAutoscaler
	kinds         map[string]int
}

func (w *wiring) add(t *testing.T, d Doc) {
	if w.kinds == nil {
		w.deployments, w.services, w.secrets = map[string]*appsv1.Deployment{}, map[string]*corev1.Service{}, map[string]bool{}
		w.configs, w.components, w.kinds = map[string]bool{}, map[string]*componentsapi.Component{}, map[string]int{}
	}
	w.kinds[d.Kind]++
	into := func(v any) {
		if err := json.Unmarshal(d.JSON, v); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
	}
	switch d.Kind {
	case "Deployment":
		var x appsv1.Deployment
		into(&x)
		w.deployments[x.Name] = &x
	case "Service":
		var x corev1.Service
		into(&x)
		w.services[x.Name] = &x
	case "Secret":
		w.secrets[d.Name] = true
	case "Configuration":
		w.configs[d.Name] = true
	case "Component":
		var x componentsapi.Component
		into(&x)
		w.components[x.Name] = &x
	case "Subscription":
		var x subscriptionsv2.Subscription
		into(&x)
		w.subscriptions = append(w.subscriptions, &x)
	case "HorizontalPodAutoscaler":
		var x autoscalingv2.HorizontalPodAutoscaler
		into(&x)
		w.hpas = append(w.hpas, &x)
	}
}

func (w *wiring) summary() string {
	var parts []string
	for k, n := range w.kinds {
		parts = append(parts, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (w *wiring) check(t *testing.T, runFile map[string]int, values map[string]any) {
	t.Helper()
	appIDs := map[string]bool{}
	for _, dep := range w.deployments {
		ann := dep.Spec.Template.Annotations
		id := ann["dapr.io/app-id"]
		appIDs[id] = true
		port, ok := runFile[id]
		if !ok {
			t.Errorf("deployment %s: app %q is not in dapr.yaml", dep.Name, id)
		}
		if ann["dapr.io/app-port"] != strconv.Itoa(port) {
			t.Errorf("deployment %s: app-port %s, dapr.yaml says %d", dep.Name, ann["dapr.io/app-port"], port)
		}
		if !w.configs[ann["dapr.io/config"]] {
			t.Errorf("deployment %s: configuration %q is not rendered", dep.Name, ann["dapr.io/config"])
		}
		for _, key := range []string{"dapr.io/app-token-secret", "dapr.io/api-token-secret"} {
			if s := ann[key]; s == "" || !w.secrets[s] || !strings.HasPrefix(s, id+"-") {
				t.Errorf("deployment %s: %s %q is not a rendered secret of its own", dep.Name, key, s)
			}
		}
		for _, key := range []string{"dapr.io/enabled", "dapr.io/log-as-json", "dapr.io/enable-metrics", "dapr.io/enable-app-health-check"} {
			if ann[key] != "true" {
				t.Errorf("deployment %s: %s = %q", dep.Name, key, ann[key])
			}
		}
		pod := dep.Spec.Template.Spec
		if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			t.Errorf("deployment %s: runAsNonRoot needs a numeric non-zero runAsUser: %+v", dep.Name, sc)
		}
		ctr := pod.Containers[0]
		if !strings.HasSuffix(ctr.Image, "/"+id+":"+fmt.Sprint(values["image"].(map[string]any)["tag"])) {
			t.Errorf("deployment %s: image %s", dep.Name, ctr.Image)
		}
		if len(ctr.Ports) == 0 || ctr.Ports[0].Name != "http" || int(ctr.Ports[0].ContainerPort) != port {
			t.Errorf("deployment %s: container ports %v, want http on %d", dep.Name, ctr.Ports, port)
		}
		if ctr.ReadinessProbe == nil || ctr.ReadinessProbe.HTTPGet.Path != "/readyz" || ctr.LivenessProbe == nil || ctr.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("deployment %s: probes %+v %+v", dep.Name, ctr.ReadinessProbe, ctr.LivenessProbe)
		}
		if c := ctr.SecurityContext; c == nil || c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem {
			t.Errorf("deployment %s: root filesystem is writable", dep.Name)
		}
		if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
			t.Errorf("deployment %s: resources %v", dep.Name, ctr.Resources)
		}
	}
	for id := range runFile {
		if !appIDs[id] {
			t.Errorf("dapr.yaml app %s has no deployment", id)
		}
	}
	for _, c := range w.components {
		for _, s := range c.Scopes {
			if !appIDs[s] {
				t.Errorf("component %s is scoped to %q, which is no app", c.Name, s)
			}
		}
		for _, m := range c.Spec.Metadata {
			if m.EnvRef != "" {
				t.Errorf("component %s: %s reads env %s, a local-only setting", c.Name, m.Name, m.EnvRef)
			}
			if v := m.Value.String(); strings.Contains(v, "localhost") || strings.Contains(v, "127.0.0.1") {
				t.Errorf("component %s: %s = %q points at localhost", c.Name, m.Name, v)
			}
			if n := m.SecretKeyRef.Name; n != "" && !slices.Contains(toStrings(values["secrets"]), n) {
				t.Errorf("component %s: secret %q is not listed in values.secrets", c.Name, n)
			}
		}
		if c.Spec.Type == "pubsub.redis" && !hasMeta(c, "maxLenApprox") {
			t.Errorf("component %s: Redis streams without a length cap grow without bound", c.Name)
		}
	}
	// Every component the services use by name, with the types the profile promises.
	want := map[string]string{"pubsub": "", "secretstore": "secretstores.kubernetes", "email": "bindings.smtp", "order-workflow-store": ""}
	for _, id := range []string{"user", "product", "order", "payment", "notification", "reviews"} {
		want[id+"-store"] = ""
	}
	for name, typ := range want {
		c, ok := w.components[name]
		if !ok {
			t.Errorf("no component %s", name)
			continue
		}
		if typ != "" && c.Spec.Type != typ {
			t.Errorf("component %s is %s, want %s", name, c.Spec.Type, typ)
		}
	}
	wantPubSub := map[string]string{"redis": "pubsub.redis", "postgres-rabbitmq": "pubsub.rabbitmq", "nats": "pubsub.jetstream", "kafka": "pubsub.kafka", "mqtt": "pubsub.mqtt3"}[w.profile]
	if c := w.components["pubsub"]; c != nil && c.Spec.Type != wantPubSub {
		t.Errorf("profile %s: pubsub is %s, want %s", w.profile, c.Spec.Type, wantPubSub)
	}
	for _, s := range w.subscriptions {
		if w.components[s.Spec.Pubsubname] == nil {
			t.Errorf("subscription %s uses pub/sub %q, which is not rendered", s.Name, s.Spec.Pubsubname)
		}
	}
	for _, h := range w.hpas {
		if w.deployments[h.Spec.ScaleTargetRef.Name] == nil {
			t.Errorf("HPA %s targets %s, which is not rendered", h.Name, h.Spec.ScaleTargetRef.Name)
		}
	}
	for id := range runFile {
		if svc := w.services[id]; svc == nil || svc.Spec.Ports[0].TargetPort.String() != "http" {
			t.Errorf("no Service for %s: %v", id, svc)
		}
	}
	if w.kinds["NetworkPolicy"] == 0 || w.kinds["PodDisruptionBudget"] == 0 || w.kinds["Resiliency"] != 1 {
		t.Errorf("kinds: %s", w.summary())
	}
	if wantJob := w.profile == "nats"; (w.kinds["Job"] == 1) != wantJob {
		t.Errorf("profile %s: %d stream Jobs", w.profile, w.kinds["Job"])
	}
}

// The NATS streams the chart creates are the contract's topics.
func TestChartNATSStreamsAreTheContractsTopics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "contracts", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, m := range regexp.MustCompile(`(?m)^## (.+)$`).FindAllStringSubmatch(string(b), -1) {
		for _, name := range strings.Split(m[1], ",") {
			if name = strings.TrimSpace(name); regexp.MustCompile(`^([a-z]+\.[a-z-]+|deadletters)$`).MatchString(name) {
				topics = append(topics, name)
			}
		}
	}
	sort.Strings(topics)
	streams := toStrings(loadChart(t).Values["natsStreams"].(map[string]any)["topics"])
	sort.Strings(streams)
	if !slices.Equal(topics, streams) {
		t.Errorf("values natsStreams.topics %v\ncontracts/events.md       %v", streams, topics)
	}
}

func hasMeta(c *componentsapi.Component, name string) bool {
	for _, m := range c.Spec.Metadata {
		if m.Name == name {
			return true
		}
	}
	return false
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// runFileApp is what these tests read of an app in dapr.yaml.
type runFileApp struct {
	AppID   string   `json:"appID"`
	AppPort int      `json:"appPort"`
	Command []string `json:"command"`
}

// runFileApps are dapr.yaml's apps.
func runFileApps(t *testing.T) []runFileApp {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Apps []runFileApp `json:"apps"`
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	return rf.Apps
}

// readRunFile maps dapr.yaml's app IDs to their app ports.
func readRunFile(t *testing.T) map[string]int {
	m := map[string]int{}
	for _, a := range runFileApps(t) {
		m[a.AppID] = a.AppPort
	}
	return m
}
