package kube_test

import (
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// A Resiliency with a field Dapr's CRD does not have (initialInterval is a
// setting of Dapr's retry library, not of the Resiliency resource).
const badResiliency = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: strict-check
spec:
  policies:
    retries:
      x:
        policy: exponential
        initialInterval: 100ms
        maxRetries: 3
  targets:
    apps:
      someapp:
        retry: x
`

const unknownField = `unknown field "spec.policies.retries.x.initialInterval"`

var resiliencies = schema.GroupVersionResource{Group: "dapr.io", Version: "v1alpha1", Resource: "resiliencies"}

// TestStrictDecoding is the negative control of TestChart: the same API
// server, asked the way TestChart's Helm installs ask it, refuses a Dapr
// resource with an unknown field; so a chart that passes TestChart has none.
func TestStrictDecoding(t *testing.T) {
	c := getCluster(t)
	ns := c.namespace(t, "strict-check")
	obj := new(unstructured.Unstructured)
	if err := yaml.Unmarshal([]byte(badResiliency), &obj.Object); err != nil {
		t.Fatal(err)
	}

	t.Run("API server refuses it under fieldValidation=Strict", func(t *testing.T) {
		_, err := c.dyn.Resource(resiliencies).Namespace(ns).Create(t.Context(), obj.DeepCopy(),
			metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
		if err == nil || !strings.Contains(err.Error(), unknownField) {
			t.Fatalf("want the API server to refuse %s, got %v", unknownField, err)
		}
		t.Logf("refused: %v", err)
	})

	t.Run("helm install as TestChart runs it refuses it", func(t *testing.T) {
		chrt := strictCheckChart(badResiliency)
		cfg := new(action.Configuration)
		if err := cfg.Init(newHelmGetter(c.env.Config, ns, true), ns, "secret", t.Logf); err != nil {
			t.Fatal(err)
		}
		install := action.NewInstall(cfg)
		install.ReleaseName = "strict-check"
		install.Namespace = ns
		_, err := install.Run(chrt, nil)
		if err == nil || !strings.Contains(err.Error(), unknownField) {
			t.Fatalf("want helm install to fail with %s, got %v", unknownField, err)
		}
		t.Logf("refused: %v", err)
	})

	// What Helm 3 does on its own: it sends no fieldValidation, so the API
	// server applies its default, Warn: the install succeeds and the field is
	// silently dropped. This is why TestChart's installs ask for Strict.
	t.Run("plain helm install accepts it and drops the field", func(t *testing.T) {
		warnings := &warningRecorder{}
		cfg := rest.CopyConfig(c.env.Config)
		cfg.WarningHandler = warnings
		hc := new(action.Configuration)
		if err := hc.Init(newHelmGetter(cfg, ns, false), ns, "secret", t.Logf); err != nil {
			t.Fatal(err)
		}
		install := action.NewInstall(hc)
		install.ReleaseName = "lenient-check"
		install.Namespace = ns
		lenient := strings.Replace(badResiliency, "name: strict-check", "name: lenient-check", 1)
		if _, err := install.Run(strictCheckChart(lenient), nil); err != nil {
			t.Fatalf("Helm now refuses unknown fields on its own (%v): the strictValidation shim can go", err)
		}
		got, err := c.dyn.Resource(resiliencies).Namespace(ns).Get(t.Context(), "lenient-check", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, found, _ := unstructured.NestedFieldNoCopy(got.Object, "spec", "policies", "retries", "x", "initialInterval"); found {
			t.Errorf("stored object kept the unknown field: %v", got.Object["spec"])
		}
		if !strings.Contains(warnings.String(), unknownField) {
			t.Errorf("no warning about the dropped field; warnings: %q", warnings.String())
		}
		t.Logf("accepted; API server warning %q; stored spec: %v", warnings.String(), got.Object["spec"])
	})
}

func strictCheckChart(manifest string) *chart.Chart {
	return &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "strict-check", Version: "0.1.0"},
		Templates: []*chart.File{{Name: "templates/resiliency.yaml", Data: []byte(manifest)}},
	}
}

type warningRecorder struct {
	mu  sync.Mutex
	msg []string
}

func (w *warningRecorder) HandleWarningHeader(code int, agent, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msg = append(w.msg, text)
}

func (w *warningRecorder) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.msg, "; ")
}
