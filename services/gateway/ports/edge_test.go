package ports_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/gateway/ports"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/middleware"
	"github.com/daprshop/platform/token"
)

// counter is a fixed-window limiter in memory, for the edge's own logic;
// the Redis one is tested against Redis in the adapters.
type counter struct {
	mu    sync.Mutex
	seen  map[string]int
	down  bool
	limit map[string]ports.Limit
}

func newCounter() *counter { return &counter{seen: map[string]int{}, limit: map[string]ports.Limit{}} }

func (c *counter) Allow(_ context.Context, key string, l ports.Limit) (ports.Decision, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return ports.Decision{}, errors.New("connection refused")
	}
	c.seen[key]++
	c.limit[key] = l
	left := l.Requests - c.seen[key]
	if left < 0 {
		return ports.Decision{Allowed: false, Remaining: 0, RetryAfter: 1500 * time.Millisecond, Reset: l.Window}, nil
	}
	return ports.Decision{Allowed: true, Remaining: left, RetryAfter: -1, Reset: l.Window}, nil
}

func (c *counter) setDown(down bool) {
	c.mu.Lock()
	c.down = down
	c.mu.Unlock()
}

func policy(t *testing.T, s ports.Settings) ports.Policy {
	t.Helper()
	base, err := ports.ParsePolicy(ports.Policy{}, ports.DefaultSettings, "defaults")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ports.ParsePolicy(base, s, "test")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// gateway serves the route table as the service does, with echo upstreams.
func gateway(t *testing.T, auth *ports.Authenticator, store ports.RateLimiter, origins string) http.Handler {
	h, _ := gatewayEdge(t, auth, store, ports.Settings{CORSOrigins: origins, RateLimits: "global=100000/1m,users=100000/1m,products=100000/1m,orders=100000/1m,admin=100000/1m"})
	return h
}

func gatewayEdge(t *testing.T, auth *ports.Authenticator, store ports.RateLimiter, s ports.Settings) (http.Handler, *ports.Edge) {
	edge := ports.NewEdge(policy(t, s), store, time.Second, zap.NewNop())
	r := httpapi.NewRouter()
	ports.Routes(r, ports.Table, echo{}, auth, edge)
	return httpapi.Handler(r, httpapi.Options{Log: zap.NewNop(), Metrics: middleware.NewHTTPMetrics(), Edge: edge.CORS}), edge
}

func call(h http.Handler, method, path, addr string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = addr + ":40000"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRateLimitsPerGroupAndKeyWithDraftHeaders(t *testing.T) {
	h, _ := gatewayEdge(t, nil, newCounter(), ports.Settings{RateLimits: "products=3/15m,global=5/1m"})
	for i := 1; i <= 3; i++ {
		rec := call(h, "GET", "/api/products", "10.0.0.1", nil)
		if rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
		if got, want := rec.Header().Get("RateLimit-Policy"), `"global";q=5;w=60, "products";q=3;w=900`; got != want {
			t.Errorf("RateLimit-Policy %q, want %q", got, want)
		}
		if got := rec.Header().Get("RateLimit"); !strings.Contains(got, `"products";r=`+string(rune('0'+3-i))+`;t=900`) {
			t.Errorf("request %d: RateLimit %q", i, got)
		}
	}
	rec := call(h, "GET", "/api/products/p1", "10.0.0.1", nil)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("4th product read: %d Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("429 as %s", ct)
	}
	// Another address has its own quota; another group only the global one.
	if rec := call(h, "GET", "/api/products", "10.0.0.2", nil); rec.Code != 200 {
		t.Errorf("another client: %d", rec.Code)
	}
	if rec := call(h, "POST", "/api/users/login", "10.0.0.1", nil); rec.Code != 200 {
		t.Errorf("users group of the same client: %d", rec.Code)
	}
	// The global limit (5) spans groups: 4 counted for 10.0.0.1 so far, plus this one.
	call(h, "POST", "/api/users/login", "10.0.0.1", nil)
	if rec := call(h, "POST", "/api/users/login", "10.0.0.1", nil); rec.Code != http.StatusTooManyRequests {
		t.Errorf("past the global limit: %d", rec.Code)
	}
}

func TestRateLimitKeysByUserBehindAToken(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tok, _, _ := token.NewIssuer(priv, "iss", "aud", time.Hour).Issue(token.Subject{ID: "u1", Role: "customer"})
	store := newCounter()
	h, _ := gatewayEdge(t, ports.NewAuthenticator(token.NewVerifier(pub, "iss", "aud"), sessions{}), store, ports.Settings{})
	call(h, "GET", "/api/orders/o1", "10.0.0.1", map[string]string{"Authorization": "Bearer " + tok})
	if store.seen["orders:user:u1"] != 1 || store.seen["global:user:u1"] != 1 {
		t.Errorf("keys counted: %v", store.seen)
	}
	if l := store.limit["orders:user:u1"]; l != (ports.Limit{Requests: 30, Window: 15 * time.Minute}) {
		t.Errorf("orders limit %v, want the seed's 30/15m", l)
	}
}

func TestRateLimiterDownFailsOpenForReadsAndClosedForCredentials(t *testing.T) {
	store := newCounter()
	store.setDown(true)
	h, edge := gatewayEdge(t, nil, store, ports.Settings{})
	if rec := call(h, "GET", "/api/products", "10.0.0.1", nil); rec.Code != 200 {
		t.Errorf("catalog read with the store down: %d", rec.Code)
	}
	for _, path := range []string{"/api/users/login", "/api/users/register", "/api/users/refresh"} {
		rec := call(h, "POST", path, "10.0.0.1", nil)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s with the store down: %d Retry-After %q", path, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	var s struct {
		Limiter struct{ StoreErrors int } `json:"limiter"`
	}
	rec := httptest.NewRecorder()
	edge.Stats().ServeHTTP(rec, httptest.NewRequest("GET", "/gateway/stats", nil))
	json.NewDecoder(rec.Body).Decode(&s)
	if s.Limiter.StoreErrors < 4 {
		t.Errorf("store errors counted: %d", s.Limiter.StoreErrors)
	}
}

func TestBodyLimitsPerGroup(t *testing.T) {
	h, _ := gatewayEdge(t, nil, newCounter(), ports.Settings{BodyLimits: "users=10"})
	req := httptest.NewRequest("POST", "/api/users/register", strings.NewReader(`{"email":"far too long"}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared body over the limit: %d", rec.Code)
	}
	req = httptest.NewRequest("POST", "/api/users/register", strings.NewReader(`{}`))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("small body: %d", rec.Code)
	}
}

func TestCORSAllowListAndPreflightAtTheGateway(t *testing.T) {
	h := gateway(t, nil, newCounter(), "https://shop.example")
	pre := map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"}
	rec := call(h, "OPTIONS", "/api/orders", "10.0.0.1", pre)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("allowed preflight: %d %v", rec.Code, rec.Header())
	}
	if rec.Body.Len() != 0 || strings.Contains(rec.Header().Get("Content-Type"), "json") {
		t.Errorf("the preflight reached a route: %s", rec.Body)
	}
	pre["Origin"] = "https://evil.example"
	if rec := call(h, "OPTIONS", "/api/orders", "10.0.0.1", pre); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of a stranger allowed: %v", rec.Header())
	}
	rec = call(h, "GET", "/api/products", "10.0.0.1", map[string]string{"Origin": "https://shop.example"})
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://shop.example" || !strings.Contains(rec.Header().Get("Access-Control-Expose-Headers"), "Ratelimit") {
		t.Errorf("simple request: %v", rec.Header())
	}
	if rec := call(h, "GET", "/api/products", "10.0.0.1", map[string]string{"Origin": "https://evil.example"}); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("stranger's read marked readable: %v", rec.Header())
	}
}

func TestPolicyRefusesWhatItCannotEnforce(t *testing.T) {
	base := policy(t, ports.Settings{})
	for name, s := range map[string]ports.Settings{
		"wildcard origin":      {CORSOrigins: "*"},
		"origin with a path":   {CORSOrigins: "https://shop.example/app"},
		"unknown group":        {RateLimits: "carts=5/1m"},
		"limit without window": {RateLimits: "users=5"},
		"negative limit":       {RateLimits: "users=-1/1m"},
		"tiny timeout":         {Timeouts: "orders=1ms"},
		"huge body":            {BodyLimits: "products=1024MiB"},
		"not a pair":           {Timeouts: "5s"},
	} {
		got, err := ports.ParsePolicy(base, s, "bad")
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if got.Version != base.Version {
			t.Errorf("%s: the policy changed on error", name)
		}
	}
}

func TestStatsShowRoutesTargetsAndLatency(t *testing.T) {
	h, edge := gatewayEdge(t, nil, newCounter(), ports.Settings{RateLimits: "products=2/15m"})
	for range 3 {
		call(h, "GET", "/api/products", "10.0.0.9", nil)
	}
	rec := httptest.NewRecorder()
	edge.Stats().ServeHTTP(rec, httptest.NewRequest("GET", "/gateway/stats", nil))
	var s struct {
		ConfigVersion string `json:"configVersion"`
		Routes        []struct {
			Route, App, Group string
			Methods           []string
			Requests          int
			ClientErrors      int `json:"clientErrors"`
			LatencyMs         map[string]float64
			TimeoutMs         int64 `json:"timeoutMs"`
		}
		Limiter struct {
			Limits map[string]struct{ Requests, WindowSeconds, Limited int }
		}
	}
	if err := json.NewDecoder(rec.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.ConfigVersion != "test" || len(s.Routes) != len(ports.Table) {
		t.Fatalf("stats: version %q, %d routes", s.ConfigVersion, len(s.Routes))
	}
	for _, r := range s.Routes {
		if r.Route == "/api/products" && r.Methods[0] == "GET" {
			if r.App != "product" || r.Group != "products" || r.Requests != 3 || r.ClientErrors != 1 || r.LatencyMs["p99"] <= 0 || r.TimeoutMs != 3000 {
				t.Errorf("products route: %+v", r)
			}
		}
	}
	if l := s.Limiter.Limits["products"]; l.Requests != 2 || l.WindowSeconds != 900 || l.Limited != 1 {
		t.Errorf("products limit in stats: %+v", l)
	}
}

func TestFeaturesSwitchedOffCloseTheirRoutes(t *testing.T) {
	h, edge := gatewayEdge(t, nil, newCounter(), ports.Settings{Features: "registration=off"})
	rec := call(h, "POST", "/api/users/register", "10.0.0.1", nil)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "registration") {
		t.Errorf("registration off: %d %s", rec.Code, rec.Body)
	}
	if rec := call(h, "POST", "/api/users/login", "10.0.0.1", nil); rec.Code != 200 {
		t.Errorf("login with registration off: %d", rec.Code)
	}
	on, err := ports.ParsePolicy(edge.Policy(), ports.Settings{Features: "registration=on,checkout=off"}, "live")
	if err != nil {
		t.Fatal(err)
	}
	edge.SetPolicy(on)
	if rec := call(h, "POST", "/api/users/register", "10.0.0.1", nil); rec.Code != 200 {
		t.Errorf("registration back on: %d", rec.Code)
	}
	for _, bad := range []string{"payments=off", "checkout=maybe"} {
		if _, err := ports.ParsePolicy(on, ports.Settings{Features: bad}, "bad"); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// deadlines records the deadline each upstream call was given.
type deadlines struct {
	mu  sync.Mutex
	got map[string]time.Duration
}

func (d *deadlines) To(appID string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if dl, ok := r.Context().Deadline(); ok {
			d.mu.Lock()
			d.got[appID] = time.Until(dl)
			d.mu.Unlock()
		}
	})
}

func TestEachGroupBoundsItsUpstreamCall(t *testing.T) {
	up := &deadlines{got: map[string]time.Duration{}}
	edge := ports.NewEdge(policy(t, ports.Settings{Timeouts: "products=250ms"}), newCounter(), time.Second, zap.NewNop())
	r := httpapi.NewRouter()
	ports.Routes(r, ports.Table, up, nil, edge)
	h := httpapi.Handler(r, httpapi.Options{Log: zap.NewNop(), Metrics: middleware.NewHTTPMetrics()})
	call(h, "GET", "/api/products", "10.0.0.1", nil)
	call(h, "POST", "/api/users/login", "10.0.0.1", nil)
	if d := up.got["product"]; d <= 0 || d > 250*time.Millisecond {
		t.Errorf("product call given %s, want at most the configured 250ms", d)
	}
	if d := up.got["user"]; d <= 4*time.Second || d > 5*time.Second {
		t.Errorf("user call given %s, want the seed's 5s", d)
	}
}
