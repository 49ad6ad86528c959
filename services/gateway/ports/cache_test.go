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
	edge := ports.NewEdge(policy(t, ports.Settings{CacheTTL: "300ms"}), newCounter(), time.Second, zap.NewNop())
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
	if etag == "" || etag != first.Header().Get("ETag") || second.Header().Get("Cache-Control") != "public, max-age=0" {
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
		edge.SetPolicy(policy(t, ports.Settings{CacheTTL: "0s"}))
		before := up.reads.Load()
		do("GET", "/api/products/p1", "")
		rec := do("GET", "/api/products/p1", "")
		if up.reads.Load()-before != 2 || rec.Header().Get("X-Cache") != "" {
			t.Errorf("with the cache off: %d upstream reads for 2, X-Cache %q", up.reads.Load()-before, rec.Header().Get("X-Cache"))
		}
	})

	t.Run("a TTL outside 0-1m is refused", func(t *testing.T) {
		if _, err := ports.ParsePolicy(ports.Policy{}, ports.Settings{CacheTTL: "2m"}, "bad"); err == nil {
			t.Error("a 2m TTL was accepted")
		}
	})
}
