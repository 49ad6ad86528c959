package ports_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/gateway/ports"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/middleware"
	"github.com/daprshop/platform/token"
)

// catalog stands in for the product service: one product whose name a PUT
// changes, counting the reads that reach it.
type catalog struct {
	name  atomic.Value
	reads atomic.Int64
}

func (c *catalog) To(string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			c.reads.Add(1)
			if r.URL.Path == "/api/products/missing" {
				httpapi.WriteJSON(w, http.StatusNotFound, map[string]string{"title": "not found"})
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, map[string]string{"name": c.name.Load().(string), "path": r.URL.RequestURI()})
		case http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			c.name.Store(string(b))
			w.WriteHeader(http.StatusOK)
		}
	})
}

func TestTheEdgeCacheKeepsCatalogReads(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	admin, _, _ := token.NewIssuer(priv, "iss", "aud", time.Hour).Issue(token.Subject{ID: "u9", Role: "admin"})
	up := &catalog{}
	up.name.Store("oak chair")
	edge := ports.NewEdge(policy(t, ports.Settings{CacheTTL: "300ms", ItemTTL: "300ms"}), newCounter(), time.Second, zap.NewNop())
	r := httpapi.NewRouter()
	ports.Routes(r, ports.Table, up, ports.NewAuthenticator(token.NewVerifier(pub, "iss", "aud"), sessions{}), edge)
	h := httpapi.Handler(r, httpapi.Options{Log: zap.NewNop(), Metrics: middleware.NewHTTPMetrics()})
	do := func(method, path, body string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	first := do("GET", "/api/products/p1", "")
	second := do("GET", "/api/products/p1", "")
	if first.Code != 200 || second.Code != 200 || first.Body.String() != second.Body.String() {
		t.Fatalf("reads: %d %q, %d %q", first.Code, first.Body, second.Code, second.Body)
	}
	if got := fmt.Sprint(first.Header().Get("X-Cache"), " ", second.Header().Get("X-Cache"), " ", up.reads.Load()); got != "MISS HIT 1" {
		t.Errorf("X-Cache and upstream reads: %s, want MISS HIT 1", got)
	}
	etag := second.Header().Get("ETag")
	if etag == "" || etag != first.Header().Get("ETag") || second.Header().Get("Cache-Control") != "public, no-cache" {
		t.Errorf("ETag %q / %q, Cache-Control %q", first.Header().Get("ETag"), etag, second.Header().Get("Cache-Control"))
	}
	if rec := do("GET", "/api/products/p1", "", "If-None-Match", etag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("revalidation with the ETag: %d %q", rec.Code, rec.Body)
	}
	if rec := do("GET", "/api/products/p1?x=1", ""); rec.Header().Get("X-Cache") != "MISS" {
		t.Errorf("another query is another entry: %s", rec.Header().Get("X-Cache"))
	}
	for range 2 {
		if rec := do("GET", "/api/products/missing", ""); rec.Code != 404 || rec.Header().Get("X-Cache") != "" {
			t.Errorf("a 404 was kept: %d %q", rec.Code, rec.Header().Get("X-Cache"))
		}
	}

	t.Run("an admin's write through the gateway shows at once", func(t *testing.T) {
		if rec := do("PUT", "/api/products/p1", "walnut chair", "Authorization", "Bearer "+admin); rec.Code != 200 {
			t.Fatalf("PUT: %d", rec.Code)
		}
		rec := do("GET", "/api/products/p1", "")
		if !strings.Contains(rec.Body.String(), "walnut chair") || rec.Header().Get("X-Cache") != "MISS" {
			t.Errorf("after the write: %s %s", rec.Header().Get("X-Cache"), rec.Body)
		}
		if again := do("GET", "/api/products/p1", "", "If-None-Match", etag); again.Code != 200 {
			t.Errorf("the old ETag still matched: %d", again.Code)
		}
	})

	t.Run("other changes show once the entry expires", func(t *testing.T) {
		do("GET", "/api/products/p1", "")
		up.name.Store("pine chair") // changed behind the gateway's back
		if rec := do("GET", "/api/products/p1", ""); strings.Contains(rec.Body.String(), "pine chair") {
			t.Errorf("served fresh before the TTL: the entry was not kept")
		}
		time.Sleep(350 * time.Millisecond)
		if rec := do("GET", "/api/products/p1", ""); !strings.Contains(rec.Body.String(), "pine chair") {
			t.Errorf("still stale after the TTL: %s", rec.Body)
		}
	})

	t.Run("a TTL of 0 keeps nothing", func(t *testing.T) {
		edge.SetPolicy(policy(t, ports.Settings{CacheTTL: "0s", ItemTTL: "0s"}))
		before := up.reads.Load()
		do("GET", "/api/products/p1", "")
		rec := do("GET", "/api/products/p1", "")
		if up.reads.Load()-before != 2 || rec.Header().Get("X-Cache") != "" {
			t.Errorf("with the cache off: %d upstream reads for 2, X-Cache %q", up.reads.Load()-before, rec.Header().Get("X-Cache"))
		}
	})

	t.Run("a TTL outside 0-1m (lists) or 0-10m (items) is refused", func(t *testing.T) {
		if _, err := ports.ParsePolicy(ports.Policy{}, ports.Settings{CacheTTL: "2m"}, "bad"); err == nil {
			t.Error("a 2m TTL was accepted")
		}
		if _, err := ports.ParsePolicy(ports.Policy{}, ports.Settings{ItemTTL: "11m"}, "bad"); err == nil {
			t.Error("an 11m item TTL was accepted")
		}
	})
}

// A product or inventory event, as the broadcast component delivers it to
// every replica, drops the reads of the products it names and every list,
// and nothing else; an event older than the process changes nothing, and
// one the gateway cannot read empties the cache.
func TestCatalogEventsDropWhatTheyChange(t *testing.T) {
	up := &catalog{}
	up.name.Store("oak chair")
	edge := ports.NewEdge(policy(t, ports.Settings{CacheTTL: "1m", ItemTTL: "10m"}), newCounter(), time.Second, zap.NewNop())
	r := httpapi.NewRouter()
	ports.Routes(r, ports.Table, up, ports.NewAuthenticator(nil, sessions{}), edge)
	r.Handle(ports.CatalogEventsPath, edge.CatalogEvents()).Methods(http.MethodPost)
	h := httpapi.Handler(r, httpapi.Options{Log: zap.NewNop(), Metrics: middleware.NewHTTPMetrics()})
	read := func(path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Header().Get("X-Cache")
	}
	deliver := func(event string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", ports.CatalogEventsPath, strings.NewReader(event)))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"SUCCESS"`) {
			t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
		}
	}
	paths := []string{"/api/products/p1", "/api/products/p2", "/api/products/p3", "/api/products?q=chair"}
	fill := func() {
		for _, p := range paths {
			read(p)
		}
	}
	kept := func() string {
		var out []string
		for _, p := range paths {
			out = append(out, read(p))
		}
		return strings.Join(out, " ")
	}
	now := time.Now().UTC().Format(time.RFC3339)

	for name, c := range map[string]struct{ event, want string }{
		"product.updated names one product": {
			`{"id":"e1","topic":"product.updated","time":"` + now + `","data":{"productId":"p2","name":"x"}}`,
			"HIT MISS HIT MISS"},
		"inventory.reserved names its lines": {
			`{"id":"e2","topic":"inventory.reserved","time":"` + now + `","data":{"orderId":"o1","lines":[{"productId":"p1","quantity":1},{"productId":"p3","quantity":2}]}}`,
			"MISS HIT MISS MISS"},
		"an event from before the process is a backlog": {
			`{"id":"e3","topic":"product.deleted","time":"2020-01-01T00:00:00Z","data":{"productId":"p1"}}`,
			"HIT HIT HIT HIT"},
		"an unreadable event empties the cache": {
			`{"id":"e4","data":`, "MISS MISS MISS MISS"},
		"an event that names no product empties the cache": {
			`{"id":"e5","topic":"product.updated","time":"` + now + `","data":"not an object"}`,
			"MISS MISS MISS MISS"},
	} {
		t.Run(name, func(t *testing.T) {
			fill()
			if got := kept(); got != "HIT HIT HIT HIT" {
				t.Fatalf("before the event: %s", got)
			}
			deliver(c.event)
			if got := kept(); got != c.want {
				t.Errorf("after the event: %s, want %s", got, c.want)
			}
		})
	}
}
