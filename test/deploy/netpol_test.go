package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"testing"

	configurationapi "github.com/dapr/dapr/pkg/apis/configuration/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// peer is a pod as NetworkPolicies see it: its namespace (and that
// namespace's labels) and its own labels.
type peer struct {
	name     string
	ns       string
	nsLabels map[string]string
	labels   map[string]string
}

// admits reports whether the NetworkPolicies (all in namespace ns) let src
// open a TCP connection to dst's port, as Kubernetes' semantics say: a pod
// no Ingress policy selects is open; one that some select is reachable where
// any rule of any of them allows it.
func admits(t *testing.T, pols []networkingv1.NetworkPolicy, ns string, src, dst peer, port int) bool {
	t.Helper()
	sel := func(s *metav1.LabelSelector, l map[string]string) bool {
		if s == nil {
			return false
		}
		x, err := metav1.LabelSelectorAsSelector(s)
		if err != nil {
			t.Fatalf("selector %v: %v", s, err)
		}
		return x.Matches(labels.Set(l))
	}
	selected := false
	for _, p := range pols {
		if dst.ns != ns || !sel(&p.Spec.PodSelector, dst.labels) || !slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			continue
		}
		selected = true
		for _, r := range p.Spec.Ingress {
			portOK := len(r.Ports) == 0
			for _, pp := range r.Ports {
				if (pp.Protocol == nil || *pp.Protocol == corev1.ProtocolTCP) && pp.Port != nil && pp.Port.IntValue() == port {
					portOK = true
				}
			}
			fromOK := len(r.From) == 0
			for _, f := range r.From {
				switch {
				case f.IPBlock != nil:
				case f.PodSelector != nil && f.NamespaceSelector != nil:
					fromOK = fromOK || (sel(f.NamespaceSelector, src.nsLabels) && sel(f.PodSelector, src.labels))
				case f.PodSelector != nil:
					fromOK = fromOK || (src.ns == ns && sel(f.PodSelector, src.labels))
				case f.NamespaceSelector != nil:
					fromOK = fromOK || sel(f.NamespaceSelector, src.nsLabels)
				}
			}
			if portOK && fromOK {
				return true
			}
		}
	}
	return !selected
}

// TestChartNetworkPolicies evaluates the rendered NetworkPolicies for every
// pair of the chart's pods, and for pods outside it: the sidecars' internal
// port (50002) of a service with values invokedBy (reviews: the gateway
// only) is reachable from exactly those apps' pods, which are exactly the
// apps its Dapr Configuration's accessControl lets in; every other
// sidecar from any pod of the release; metrics from the monitoring
// namespace only; app ports from
// nowhere but the gateway's public one.
func TestChartNetworkPolicies(t *testing.T) {
	c := loadChart(t)
	const ns = "shop" // render's namespace
	var pols []networkingv1.NetworkPolicy
	pods := map[string]peer{}
	appPort := map[string]int{}
	callers := map[string][]string{} // app -> the apps its accessControl lets in
	for _, d := range render(t, c, "redis") {
		switch d.Kind {
		case "NetworkPolicy":
			var p networkingv1.NetworkPolicy
			if err := json.Unmarshal(d.JSON, &p); err != nil {
				t.Fatal(err)
			}
			pols = append(pols, p)
		case "Deployment":
			var x appsv1.Deployment
			if err := json.Unmarshal(d.JSON, &x); err != nil {
				t.Fatal(err)
			}
			pods[x.Name] = peer{name: x.Name, ns: ns, nsLabels: map[string]string{"kubernetes.io/metadata.name": ns}, labels: x.Spec.Template.Labels}
			appPort[x.Name] = int(x.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort)
		case "Configuration":
			var x configurationapi.Configuration
			if err := json.Unmarshal(d.JSON, &x); err != nil {
				t.Fatal(err)
			}
			if x.Spec.AccessControlSpec != nil {
				for _, p := range x.Spec.AccessControlSpec.AppPolicies {
					callers[x.Name] = append(callers[x.Name], p.AppName)
				}
			}
		}
	}
	if len(pols) == 0 || len(pods) == 0 {
		t.Fatalf("%d NetworkPolicies, %d Deployments rendered", len(pols), len(pods))
	}
	services := c.Values["services"].(map[string]any)
	monitoring := peer{name: "prometheus", ns: "monitoring", nsLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}, labels: map[string]string{"app": "prometheus"}}
	stranger := peer{name: "a pod of another release", ns: ns, nsLabels: pods["gateway"].nsLabels, labels: map[string]string{"app.kubernetes.io/part-of": "daprshop", "app.kubernetes.io/instance": "other", "app.kubernetes.io/name": "gateway"}}
	elsewhere := peer{name: "a pod of another namespace", ns: "other", nsLabels: map[string]string{"kubernetes.io/metadata.name": "other"}, labels: pods["gateway"].labels}
	expect := func(src, dst peer, port int, want bool, why string) {
		if got := admits(t, pols, ns, src, dst, port); got != want {
			t.Errorf("%s -> %s:%d admitted=%v, want %v (%s)", src.name, dst.name, port, got, want, why)
		}
	}
	restricted := 0
	for _, dst := range pods {
		svc := services[dst.name].(map[string]any)
		var invokedBy []string
		if v, ok := svc["invokedBy"]; ok {
			invokedBy = toStrings(v)
			restricted++
			got := slices.Clone(callers[dst.name])
			sort.Strings(got)
			want := slices.Clone(invokedBy)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: values invokedBy %v, but dapr-config/%s.yaml's accessControl lets in %v", dst.name, want, dst.name, got)
			}
		}
		for _, src := range pods {
			if src.name == dst.name {
				continue
			}
			want, why := true, "any pod of the release reaches a sidecar"
			if invokedBy != nil {
				want, why = slices.Contains(invokedBy, src.name), fmt.Sprintf("invokedBy %v", invokedBy)
			}
			expect(src, dst, 50002, want, why)
			expect(src, dst, appPort[dst.name], dst.name == "gateway", "app ports are closed but the gateway's")
			expect(src, dst, 3500, false, "a sidecar's API is its app's alone")
		}
		expect(stranger, dst, 50002, false, "another release")
		expect(elsewhere, dst, 50002, false, "another namespace")
		expect(monitoring, dst, 9090, true, "sidecar metrics")
		metricsPort := appPort[dst.name]
		if p, ok := svc["adminPort"]; ok {
			metricsPort, _ = strconv.Atoi(fmt.Sprint(p))
		}
		expect(monitoring, dst, metricsPort, true, "app metrics")
		expect(monitoring, dst, 50002, false, "monitoring invokes nothing")
	}
	if restricted == 0 || services["reviews"].(map[string]any)["invokedBy"] == nil {
		t.Error("no service has invokedBy (reviews should: the gateway only)")
	}
	t.Logf("%d NetworkPolicies checked over %d pods, %d with invokedBy", len(pols), len(pods), restricted)
}
