package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/daprshop/devrun/runner"
)

// metricName picks metric names out of PromQL: identifiers of the families
// this project exports (the apps' http_*, daprd's dapr_*, the checkout's).
var metricName = regexp.MustCompile(`\b((?:http|dapr|checkout)_[a-z0-9_]+)\b`)

// dashboardMetrics checks that every metric the Grafana dashboard queries
// is exported, right now, by a service or a sidecar of run (which has
// served requests and checkouts), and that the `make run` scrape targets in
// deploy/prometheus are dapr.yaml's ports.
func dashboardMetrics(t *testing.T, run *runner.Run, root string) {
	b, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "daprshop.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // metric → panel
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range metricName.FindAllString(tg.Expr, -1) {
				want[m] = p.Title
			}
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d metrics found in the dashboard: %v", len(want), want)
	}

	var exported strings.Builder
	apps := []string{"gateway", "user", "product", "order", "payment", "notification", "reviews"}
	for _, app := range apps {
		for _, url := range []string{run.AdminURL(app) + "/metrics", fmt.Sprintf("http://127.0.0.1:%d/", run.MetricsPort(app))} {
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", url, resp.StatusCode)
			}
			exported.Write(body)
		}
	}
	text := "\n" + exported.String()
	for m, panel := range want {
		if !strings.Contains(text, "\n"+m+"{") && !strings.Contains(text, "\n"+m+" ") {
			t.Errorf("panel %q queries %s, which no service or sidecar exports", panel, m)
		}
	}
	t.Logf("%d metrics of the dashboard found in the running services' and sidecars' exports", len(want))

	// The `make run` targets of the scrape configuration are dapr.yaml's.
	rf, err := runner.LoadRunFile(filepath.Join(root, "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prom, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rf.Apps {
		appMetrics := a.AppPort
		if p, err := strconv.Atoi(a.Env["ADMIN_PORT"]); err == nil && p > 0 {
			appMetrics = p
		}
		for _, port := range []int{appMetrics, a.MetricsPort} {
			target := fmt.Sprintf(`{targets: ["localhost:%d"], labels: {service: %s}}`, port, a.AppID)
			if !strings.Contains(string(prom), target) {
				t.Errorf("deploy/prometheus/prometheus.yml lacks %s", target)
			}
		}
	}
}
