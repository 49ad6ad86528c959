package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
)

// TestTheEdge checks, through the real gateway and sidecars, what the
// gateway does before any service sees a request: rate limits counted in
// Redis, CORS preflights answered at the edge, body limits, and the
// statistics on the admin port.
func TestTheEdge(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology")
	}
	root := daprtest.RepoRoot(t)
	run := startRun(t, root, nil, nil, map[string]map[string]string{"gateway": {
		"RATE_LIMITS":  "users=100000/1m,products=5/1m,orders=100000/1m,payments=100000/1m,admin=100000/1m,global=100000/1m",
		"CORS_ORIGINS": "https://shop.example",
		"BODY_LIMITS":  "users=2KiB",
	}})
	gw := client{t: t, base: run.AppURL("gateway")}

	t.Run("a group's limit answers 429 with the draft's headers", func(t *testing.T) {
		for i := 1; i <= 5; i++ {
			r := gw.do("GET", "/api/products?limit=1", "")
			expect(t, "read "+strconv.Itoa(i), r, 200)
			if p := r.header.Get("RateLimit-Policy"); !strings.Contains(p, `"products";q=5;w=60`) {
				t.Errorf("RateLimit-Policy %q", p)
			}
			if rl := r.header.Get("RateLimit"); !strings.Contains(rl, `"products";r=`+strconv.Itoa(5-i)+`;t=`) {
				t.Errorf("read %d: RateLimit %q", i, rl)
			}
		}
		r := gw.do("GET", "/api/products/anything", "")
		expect(t, "sixth read", r, http.StatusTooManyRequests)
		if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 1 || ra > 12 {
			t.Errorf("Retry-After %q: one request is earned back every 12 s", r.header.Get("Retry-After"))
		}
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("429 as %q", ct)
		}
		// Other groups keep their own quota.
		expect(t, "a login attempt", gw.do("POST", "/api/users/login", `{"email":"nobody@example.com","password":"not-the-password-1"}`), 401)
	})

	t.Run("a preflight is answered at the gateway", func(t *testing.T) {
		req, _ := http.NewRequest("OPTIONS", gw.base+"/api/orders", nil)
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
		req.Header.Set("Origin", "https://elsewhere.example")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("an origin off the list was allowed: %v", resp.Header)
		}
	})

	t.Run("a body over the group's limit is refused", func(t *testing.T) {
		big := `{"email":"big@example.com","password":"a-long-password-1","name":"` + strings.Repeat("x", 3000) + `"}`
		expect(t, "3 KB sign-up", gw.do("POST", "/api/users/register", big), http.StatusRequestEntityTooLarge)
	})

	t.Run("a limit changed in the configuration store applies within a second", func(t *testing.T) {
		admin := loginAdmin(t, run, gw)
		policy := func() (int, string) {
			r := gw.do("GET", "/api/admin/deadletters", "", "Authorization", admin)
			return r.status, r.header.Get("RateLimit-Policy")
		}
		if _, p := policy(); !strings.Contains(p, `"admin";q=100000;w=60`) {
			t.Fatalf("start-up policy %q", p)
		}
		set := func(value string) time.Time {
			t.Helper()
			if err := run.SetConfig("gateway.rate_limits", value); err != nil {
				t.Fatal(err)
			}
			return time.Now()
		}
		// waitFor polls until the policy header says want; it returns how
		// long that took and the statuses answered under the new policy.
		waitFor := func(since time.Time, want string) (time.Duration, []int) {
			t.Helper()
			var statuses []int
			for time.Since(since) < 5*time.Second {
				status, p := policy()
				if strings.Contains(p, want) {
					statuses = append(statuses, status)
					if len(statuses) == 4 {
						break
					}
					continue
				}
				if len(statuses) > 0 {
					t.Fatalf("policy %q after %q was in force", p, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(statuses) == 0 {
				t.Fatalf("%q not in force after 5 s", want)
			}
			return time.Since(since), statuses
		}
		took, statuses := waitFor(set("admin=3/1m"), `"admin";q=3;w=60`)
		t.Logf("new limit in force and enforced %s after the change: %v", took.Round(time.Millisecond), statuses)
		if took > 1500*time.Millisecond || statuses[3] != http.StatusTooManyRequests || statuses[0] != 200 {
			t.Errorf("after %s, statuses %v: want 200s then 429 at the 4th, within a second", took, statuses)
		}
		version := stats(t, run).ConfigVersion
		if !strings.HasPrefix(version, "live-") {
			t.Errorf("config version %q after a live change", version)
		}

		set("admin=banana")
		time.Sleep(1500 * time.Millisecond)
		if _, p := policy(); !strings.Contains(p, `"admin";q=3;w=60`) {
			t.Errorf("after an invalid value the policy is %q", p)
		}
		if v := stats(t, run).ConfigVersion; v != version {
			t.Errorf("an invalid value changed the version: %s -> %s", version, v)
		}

		if err := run.SetConfig("gateway.rate_limits", ""); err != nil {
			t.Fatal(err)
		}
		took, _ = waitFor(time.Now(), `"admin";q=100000;w=60`)
		if took > 1500*time.Millisecond {
			t.Errorf("the start-up limit came back after %s", took)
		}
	})

	t.Run("statistics on the admin port only", func(t *testing.T) {
		expect(t, "stats on the public port", gw.do("GET", "/gateway/stats", ""), 404)
		s := stats(t, run)
		if s.ConfigVersion != "start-up" || len(s.CORSOrigins) != 1 || s.Limiter.StoreErrors != 0 {
			t.Errorf("stats: %+v", s)
		}
		seen := map[string]bool{}
		for _, r := range s.Routes {
			seen[r.Route] = true
			if r.Route == "/api/products/{id}" && r.Methods[0] == "GET" && (r.App != "product" || r.Requests != 1 || r.ClientErrors != 1) {
				t.Errorf("GET /api/products/{id}: %+v", r)
			}
			if r.Route == "/api/products" && r.Methods[0] == "GET" && (r.Requests != 5 || r.LatencyMs["p50"] <= 0) {
				t.Errorf("GET /api/products: %+v", r)
			}
			if r.Route == "/api/orders" && r.Requests != 0 {
				t.Errorf("a preflight reached the orders route: %+v", r)
			}
		}
		for _, want := range []string{"/api/users/login", "/api/orders/{id}", "/api/payments/{id}", "/api/admin/deadletters"} {
			if !seen[want] {
				t.Errorf("route %s missing from the stats", want)
			}
		}
		if l := s.Limiter.Limits["products"]; l.Requests != 5 || l.WindowSeconds != 60 || l.Limited != 1 {
			t.Errorf("products limit: %+v", l)
		}
	})
}

type gatewayStats struct {
	ConfigVersion string `json:"configVersion"`
	Routes        []struct {
		Route, App, Group string
		Methods           []string
		Requests          int
		ClientErrors      int `json:"clientErrors"`
		LatencyMs         map[string]float64
	}
	Limiter struct {
		StoreErrors int `json:"storeErrors"`
		Limits      map[string]struct{ Requests, WindowSeconds, Limited int }
	}
	CORSOrigins []string `json:"corsOrigins"`
}

func stats(t *testing.T, run *runner.Run) gatewayStats {
	t.Helper()
	resp, err := http.Get(run.AdminURL("gateway") + "/gateway/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s gatewayStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
