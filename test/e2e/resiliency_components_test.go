package e2e

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/daprshop/platform/daprtest"
)

// TestComponentPoliciesAct loads the repository's resiliency policies into a
// real sidecar (as "product", one of their scopes) whose state store and
// pub/sub reach the machine's Redis through a fault proxy, and shows the
// component policies act: a stalled store is cut at the state timeout on
// each attempt and retried maxRetries times; the workflow store and the
// email binding are cut at their timeouts once, unretried; an unreachable
// broker opens the pub/sub breaker, which then fails publishes fast,
// half-opens after its timeout and closes on a success.
func TestComponentPoliciesAct(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	t.Parallel() // one sidecar, mostly waiting: it overlaps the whole-topology tests
	root := daprtest.RepoRoot(t)
	key := "resiliency-" + uuid.NewString()
	proxy := startFaultProxy(t, daprtest.Redis(t))
	sc := daprtest.Start(t, daprtest.Options{
		AppID: "product",
		Resources: []string{
			daprtest.RedisState(t, "product-store", proxy.addr()),
			daprtest.RedisPubSub(t, proxy.addr()),
			// Stand-ins under the names the policies target: the workflow
			// engine's store, and the email binding (a Redis binding here:
			// the local-file one cannot be made slow).
			daprtest.RedisState(t, "order-workflow-store", proxy.addr()),
			redisBinding("email", proxy.addr()),
		},
		ResourcesDirs: []string{filepath.Join(root, "dapr-config", "resiliency")},
	})
	do := func(method, path, body string) (int, string, time.Duration) {
		t.Helper()
		req, _ := http.NewRequest(method, sc.HTTPBase()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), time.Since(start)
	}

	t.Run("a stalled state store is cut at the timeout, each attempt, and retried", func(t *testing.T) {
		if status, body, _ := do("POST", "/v1.0/state/product-store", `[{"key":"`+key+`","value":1}]`); status != 204 {
			t.Fatalf("save: %d %s", status, body)
		}
		proxy.set("stall")
		status, body, took := do("GET", "/v1.0/state/product-store/"+key, "")
		proxy.set("pass")
		t.Logf("stalled read: %d after %s: %s", status, took.Round(time.Millisecond), body)
		// state: timeout 3s, retry constant 50ms × 3. Each attempt ends at
		// the 3 s timeout, so 12 s means exactly 1 + maxRetries attempts
		// (the Redis client's own retries cannot outlast the timeout).
		if status < 500 || !strings.Contains(body, "context deadline exceeded") ||
			took < 4*3*time.Second || took > 4*3*time.Second+2*time.Second {
			t.Errorf("want a deadline failure after 4 attempts of 3 s, got %d after %s: %s", status, took, body)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, body, _ := do("GET", "/v1.0/state/product-store/"+key, "")
			if status == 200 && body == "1" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the store did not come back: %d %s", status, body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	// Components without retries: one attempt, cut at the component's timeout.
	for _, tc := range []struct {
		name, method, path, body string
		timeout                  time.Duration
	}{
		{"the workflow store", "GET", "/v1.0/state/order-workflow-store/" + key, "", 5 * time.Second},
		{"the email binding", "POST", "/v1.0/bindings/email", `{"operation":"create","data":"hello","metadata":{"key":"` + key + `"}}`, 10 * time.Second},
	} {
		t.Run(tc.name+" is cut at its timeout and not retried", func(t *testing.T) {
			proxy.set("stall")
			status, body, took := do(tc.method, tc.path, tc.body)
			proxy.set("pass")
			t.Logf("stalled: %d after %s: %s", status, took.Round(time.Millisecond), body)
			if status < 500 || took < tc.timeout || took > tc.timeout+2*time.Second {
				t.Errorf("want one attempt cut at %s, got %d after %s", tc.timeout, status, took)
			}
		})
	}

	t.Run("an unreachable broker opens the pub/sub breaker, which half-opens and closes", func(t *testing.T) {
		publish := func() (int, string, time.Duration) {
			return do("POST", "/v1.0/publish/pubsub/product.updated", `{"id":"p1"}`)
		}
		if status, body, _ := publish(); status != 204 {
			t.Fatalf("publish: %d %s", status, body)
		}
		proxy.set("refuse")
		status, body, took := publish()
		t.Logf("publish to an unreachable broker: %d after %s: %s", status, took.Round(time.Millisecond), body)
		if status < 500 {
			t.Fatalf("publish to an unreachable broker: %d", status)
		}
		openedAt := time.Now()
		// component breaker: trip consecutiveFailures > 5; publish retries 5,
		// so the first publish's attempts opened it.
		status, body, took = publish()
		t.Logf("publish with the breaker open: %d after %s: %s", status, took.Round(time.Millisecond), body)
		if status < 500 || took > 500*time.Millisecond || !strings.Contains(body, "circuit breaker is open") {
			t.Errorf("want a fast failure from the open breaker, got %d after %s: %s", status, took, body)
		}
		proxy.set("pass")
		// Still open while the broker is back: nothing is let through before
		// the breaker's timeout (15 s).
		if status, body, _ := publish(); status < 500 || !strings.Contains(body, "circuit breaker is open") {
			t.Errorf("the breaker let a publish through before its timeout: %d %s", status, body)
		}
		time.Sleep(time.Until(openedAt.Add(15*time.Second + 500*time.Millisecond)))
		for i := range 2 {
			if status, body, _ := publish(); status != 204 {
				t.Errorf("publish %d after the breaker's timeout, broker back: %d %s", i+1, status, body)
			}
		}
	})
}

// redisBinding is a bindings.redis component named name on the Redis at
// addr, whose client waits and retries longer than any policy: only the
// resiliency policy can end a stalled call.
func redisBinding(name, addr string) string {
	return fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: bindings.redis
  version: v1
  metadata:
    - {name: redisHost, value: "%s"}
    - {name: readTimeout, value: "60s"}
    - {name: writeTimeout, value: "60s"}
    - {name: redisMaxRetries, value: "0"}
`, name, addr)
}
