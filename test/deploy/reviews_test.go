package deploy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	componentsapi "github.com/dapr/dapr/pkg/apis/components/v1alpha1"
	configurationapi "github.com/dapr/dapr/pkg/apis/configuration/v1alpha1"
	subscriptionsv2 "github.com/dapr/dapr/pkg/apis/subscriptions/v2alpha1"
	appsv1 "k8s.io/api/apps/v1"
)

// TestChartReviews checks, on every profile, what the chart renders for the
// Node.js reviews service beyond what every service gets
// (TestChartRendersStrictlyForEveryProfile): its sidecar's annotations, the
// environment it reads (APP_LISTEN_ADDRESS on the pod's address, its store's
// name, no secret but its own tokens), the probes on /healthz and /readyz,
// its /metrics scraped on its app port, its state store and its
// order.shipped subscription scoped to it alone, and a Configuration that
// lets only the gateway invoke it.
func TestChartReviews(t *testing.T) {
	c := loadChart(t)
	wantStore := map[string]string{"redis": "state.redis", "postgres-rabbitmq": "state.postgresql", "nats": "state.redis", "kafka": "state.redis", "mqtt": "state.redis"}
	for _, p := range ChartProfiles {
		t.Run(p, func(t *testing.T) {
			var (
				dep    *appsv1.Deployment
				store  *componentsapi.Component
				sub    *subscriptionsv2.Subscription
				cfg    *configurationapi.Configuration
				pubsub *componentsapi.Component
				kinds  = map[string]bool{}
			)
			for _, d := range render(t, c, p) {
				into := func(v any) {
					if err := json.Unmarshal(d.JSON, v); err != nil {
						t.Fatalf("%s: %v", d, err)
					}
				}
				switch {
				case d.Kind == "Deployment" && d.Name == "reviews":
					dep = new(appsv1.Deployment)
					into(dep)
				case d.Kind == "Component" && d.Name == "reviews-store":
					store = new(componentsapi.Component)
					into(store)
				case d.Kind == "Component" && d.Name == "pubsub":
					pubsub = new(componentsapi.Component)
					into(pubsub)
				case d.Kind == "Subscription" && d.Name == "reviews-order-shipped":
					sub = new(subscriptionsv2.Subscription)
					into(sub)
				case d.Kind == "Configuration" && d.Name == "reviews":
					cfg = new(configurationapi.Configuration)
					into(cfg)
				case d.Name == "reviews" || d.Name == "daprshop-reviews" || strings.HasPrefix(d.Name, "reviews-"):
					kinds[d.Kind+" "+d.Name] = true
				}
			}
			if dep == nil {
				t.Fatal("no Deployment reviews")
			}
			ann := dep.Spec.Template.Annotations
			for k, v := range map[string]string{
				"dapr.io/enabled": "true", "dapr.io/app-id": "reviews", "dapr.io/app-port": "8006", "dapr.io/config": "reviews",
				"dapr.io/app-protocol": "http", "dapr.io/enable-app-health-check": "true", "dapr.io/app-health-check-path": "/healthz",
				"dapr.io/app-token-secret": "reviews-app-token", "dapr.io/api-token-secret": "reviews-api-token",
				"prometheus.io/scrape": "true", "prometheus.io/port": "8006", "prometheus.io/path": "/metrics",
			} {
				if ann[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, ann[k], v)
				}
			}
			ctr := dep.Spec.Template.Spec.Containers[0]
			if !strings.HasSuffix(ctr.Image, "daprshop/reviews:"+c.Values["image"].(map[string]any)["tag"].(string)) {
				t.Errorf("image %s", ctr.Image)
			}
			env := map[string]string{}
			for _, e := range ctr.Env {
				env[e.Name] = e.Value
				if e.ValueFrom != nil {
					ref := e.ValueFrom.SecretKeyRef
					if ref == nil || !slices.Contains([]string{"reviews-app-token", "reviews-api-token"}, ref.Name) {
						t.Errorf("env %s reads %+v: reviews has no secrets but its own tokens", e.Name, e.ValueFrom)
					}
					env[e.Name] = "secret " + ref.Name
				}
			}
			for k, v := range map[string]string{
				"APP_PORT": "8006", "APP_LISTEN_ADDRESS": "0.0.0.0", "REVIEWS_STATE_STORE": "reviews-store", "LOG_LEVEL": "info",
				"APP_API_TOKEN": "secret reviews-app-token", "DAPR_API_TOKEN": "secret reviews-api-token",
			} {
				if env[k] != v {
					t.Errorf("env %s = %q, want %q", k, env[k], v)
				}
			}
			// DAPR_HTTP_PORT comes from Dapr's injector (test/kube checks it
			// does); DAPR_HOST keeps its default, the pod's loopback.
			for _, k := range []string{"DAPR_HTTP_PORT", "DAPR_HOST"} {
				if _, ok := env[k]; ok {
					t.Errorf("env %s is set by the chart", k)
				}
			}
			if r := ctr.ReadinessProbe; r == nil || r.HTTPGet.Path != "/readyz" || r.HTTPGet.Port.String() != "http" {
				t.Errorf("readiness probe %+v", r)
			}
			if l, s := ctr.LivenessProbe, ctr.StartupProbe; l == nil || s == nil || l.HTTPGet.Path != "/healthz" || s.HTTPGet.Path != "/healthz" {
				t.Errorf("liveness probe %+v, startup probe %+v: want /healthz", l, s)
			}
			if m := ctr.Resources.Limits.Memory(); m.Value() < 128<<20 {
				t.Errorf("memory limit %s: Node.js with its SDK is resident at ~92 MB idle", m)
			}
			if sc := dep.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
				t.Errorf("pod security context %+v: the Node image's user is 65532", sc)
			}
			for _, k := range []string{"Service reviews", "HorizontalPodAutoscaler reviews", "PodDisruptionBudget reviews", "NetworkPolicy daprshop-reviews", "Secret reviews-app-token", "Secret reviews-api-token"} {
				if !kinds[k] {
					t.Errorf("no %s", k)
				}
			}

			if store == nil {
				t.Fatal("no component reviews-store")
			}
			if store.Spec.Type != wantStore[p] || !slices.Equal(store.Scopes, []string{"reviews"}) {
				t.Errorf("reviews-store: %s scoped %v, want %s scoped [reviews]", store.Spec.Type, store.Scopes, wantStore[p])
			}
			if sub == nil {
				t.Fatal("no subscription reviews-order-shipped")
			}
			if sub.Spec.Topic != "order.shipped" || sub.Spec.Pubsubname != "pubsub" || !slices.Equal(sub.Scopes, []string{"reviews"}) || sub.Spec.Routes.Default == "" {
				t.Errorf("subscription reviews-order-shipped: %+v scopes %v", sub.Spec, sub.Scopes)
			}
			if pubsub == nil || !slices.Contains(pubsub.Scopes, "reviews") {
				t.Errorf("pub/sub component not scoped to reviews: %v", pubsub)
			}

			if cfg == nil {
				t.Fatal("no Configuration reviews")
			}
			ac := cfg.Spec.AccessControlSpec
			if ac == nil || ac.DefaultAction != "deny" || len(ac.AppPolicies) != 1 || ac.AppPolicies[0].AppName != "gateway" || ac.AppPolicies[0].DefaultAction != "deny" {
				t.Errorf("reviews' accessControl: %+v", ac)
			}
			if s := cfg.Spec.Secrets; s != nil && len(s.Scopes) > 0 {
				t.Errorf("reviews' secret scopes: %+v (it reads no secrets, and its sidecar loads no secret store)", s)
			}
		})
	}
}
