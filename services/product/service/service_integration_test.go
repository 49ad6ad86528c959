package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/product/service"
)

// TestProductServiceThroughSidecar runs the product service beside a real
// daprd and a scheduler, on the repository's Redis component and on its
// PostgreSQL profile, and calls it as the order service would: through
// service invocation from a sidecar whose app ID is "order".
func TestProductServiceThroughSidecar(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd and a scheduler")
	}
	for name, file := range map[string]string{
		"redis":      "components/product-store.yaml",
		"postgresql": "components/profiles/postgres-rabbitmq/product-store.yaml",
	} {
		t.Run(name, func(t *testing.T) { suite(t, file) })
	}
}

type caller struct {
	t      *testing.T
	base   string
	header http.Header
}

func (c caller) do(method, path string, body any) (int, http.Header, map[string]any) {
	c.t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, c.base+"/v1.0/invoke/product/method"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

func suite(t *testing.T, componentFile string) {
	root := daprtest.RepoRoot(t)
	redis := daprtest.Redis(t)
	run := uuid.NewString()[:8]
	// A key prefix of its own: the test sees and disturbs no other catalog.
	store := daprtest.RepoComponent(t, componentFile, "product-it-"+run)
	pubsub := daprtest.RedisPubSub(t, redis)
	config, err := os.ReadFile(filepath.Join(root, "dapr-config", "product.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Mutual TLS between the test's sidecars, so the product's access
	// control (dapr-config/product.yaml) decides by caller identity as in a run.
	sentry := daprtest.StartSentry(t)
	scheduler := daprtest.StartScheduler(t, sentry)
	inbox := daprtest.Subscribe(t, "product-it-sub-"+run, "pubsub", []string{events.TopicInventoryLowStock},
		daprtest.Options{Resources: []string{pubsub}})

	t.Setenv("LOW_STOCK_THRESHOLD", "5")
	t.Setenv("INDEX_REFRESH", "200ms")
	t.Setenv("EXPIRY_SWEEP", "1s")
	daprtest.StartApp(t, daprtest.Options{
		AppID: "product", Resources: []string{store, pubsub}, Config: string(config), SchedulerAddress: scheduler, Sentry: sentry,
	}, func(ctx context.Context) error {
		var cfg service.Config
		if err := bootstrap.Load(&cfg, service.Name, service.Port); err != nil {
			return err
		}
		return service.Run(ctx, &cfg, zap.NewNop())
	})
	order := caller{t: t, base: daprtest.Start(t, daprtest.Options{AppID: "order", Sentry: sentry}).HTTPBase()}
	intruder := caller{t: t, base: daprtest.Start(t, daprtest.Options{AppID: "intruder-" + run, Sentry: sentry}).HTTPBase()}
	gateway := caller{t: t, base: daprtest.Start(t, daprtest.Options{AppID: "gateway", Sentry: sentry}).HTTPBase()}
	admin := gateway
	admin.header = http.Header{}
	identity.Set(admin.header, identity.Principal{UserID: "root", Role: identity.RoleAdmin})

	newProduct := func(stock int) string {
		code, _, body := admin.do("POST", "/products", map[string]any{
			"name": "Contested Kettle " + run, "category": "kitchen", "price": map[string]any{"amount": 2999, "currency": "EUR"}, "stock": stock})
		if code != http.StatusCreated {
			t.Fatalf("create product: %d %v", code, body)
		}
		return body["id"].(string)
	}
	reserve := func(c caller, orderID, productID string, qty int, ttl int) (int, http.Header, map[string]any) {
		return c.do("POST", "/inventory/reservations", map[string]any{
			"orderId": orderID, "ttlSeconds": ttl, "lines": []map[string]any{{"productId": productID, "quantity": qty}}})
	}
	available := func(id string) float64 {
		_, _, body := order.do("GET", "/products/"+id, nil)
		return body["available"].(float64)
	}

	hot := newProduct(10)
	t.Run("100 concurrent reservations of 10 units: exactly 10 succeed", func(t *testing.T) {
		codes := make([]int, 100)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _, _ = reserve(order, fmt.Sprintf("o-%s-%03d", run, i), hot, 1, 0)
			}()
		}
		wg.Wait()
		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[http.StatusCreated] != 10 || count[http.StatusConflict] != 90 {
			t.Fatalf("statuses %v, want 10×201 and 90×409", count)
		}
		if got := available(hot); got != 0 {
			t.Fatalf("available %v, want 0", got)
		}
	})

	t.Run("a repeated reservation is a no-op with the same answer", func(t *testing.T) {
		var winner string
		for i := range 100 {
			id := fmt.Sprintf("o-%s-%03d", run, i)
			if _, _, r := order.do("GET", "/inventory/reservations/"+id, nil); r["status"] == "reserved" {
				winner = id
				break
			}
		}
		code, h, body := reserve(order, winner, hot, 1, 0)
		if code != http.StatusCreated || h.Get("Idempotent-Replayed") != "true" || body["status"] != "reserved" {
			t.Fatalf("replay: %d %v %v", code, h, body)
		}
		if got := available(hot); got != 0 {
			t.Fatalf("a replay moved stock: available %v", got)
		}
	})

	t.Run("an expired reservation returns its stock", func(t *testing.T) {
		p := newProduct(5)
		orderID := "exp-" + run
		if code, _, body := reserve(order, orderID, p, 3, 2); code != http.StatusCreated {
			t.Fatalf("reserve: %d %v", code, body)
		}
		if got := available(p); got != 2 {
			t.Fatalf("available %v after holding 3 of 5", got)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, _, r := order.do("GET", "/inventory/reservations/"+orderID, nil)
			if r["status"] == "expired" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reservation still %v 30s after a 2s TTL", r["status"])
			}
			time.Sleep(250 * time.Millisecond)
		}
		if got := available(p); got != 5 {
			t.Fatalf("available %v after expiry, want 5", got)
		}
	})

	t.Run("commit and release", func(t *testing.T) {
		p := newProduct(4)
		reserve(order, "c-"+run, p, 1, 0)
		reserve(order, "r-"+run, p, 2, 0)
		if code, _, body := order.do("POST", "/inventory/reservations/c-"+run+"/commit", nil); code != 200 || body["status"] != "committed" {
			t.Fatalf("commit: %d %v", code, body)
		}
		if code, _, body := order.do("POST", "/inventory/reservations/r-"+run+"/release", nil); code != 200 || body["status"] != "released" {
			t.Fatalf("release: %d %v", code, body)
		}
		if code, _, _ := order.do("POST", "/inventory/reservations/r-"+run+"/commit", nil); code != http.StatusConflict {
			t.Fatalf("commit after release: %d", code)
		}
		if got := available(p); got != 3 {
			t.Fatalf("available %v, want 3 (4 - 1 sold)", got)
		}
	})

	t.Run("only the order service reaches inventory and nobody reaches jobs", func(t *testing.T) {
		// Refused by the product's sidecar (access control), before the app's own checks.
		if code, _, _ := reserve(intruder, "x-"+run, hot, 1, 0); code != http.StatusForbidden {
			t.Fatalf("reservation from another app: %d", code)
		}
		if code, _, _ := reserve(gateway, "x-"+run, hot, 1, 0); code != http.StatusForbidden {
			t.Fatalf("reservation from the gateway: %d", code)
		}
		if code, _, _ := order.do("POST", "/job/reservation-expiry-c-"+run, nil); code != http.StatusForbidden {
			t.Fatalf("job triggered through service invocation: %d", code)
		}
		if code, _, _ := order.do("POST", "/products", map[string]any{"name": "x"}); code != http.StatusForbidden {
			t.Fatalf("catalog write from the order service: %d", code)
		}
		// Let through by the sidecar, refused by the app: no identity.
		if code, _, _ := gateway.do("POST", "/products", map[string]any{"name": "x"}); code != http.StatusUnauthorized {
			t.Fatalf("catalog write without identity: %d", code)
		}
	})

	t.Run("low stock is announced", func(t *testing.T) {
		ce := inbox.Wait(t, 20*time.Second, func(e daprtest.CloudEvent) bool { return e.Subject == hot })
		var data events.LowStock
		if err := json.Unmarshal(ce.Data, &data); err != nil || data.Threshold != 5 || data.Available >= 5 {
			t.Fatalf("event %s: %+v %v", ce.Data, data, err)
		}
	})
}
