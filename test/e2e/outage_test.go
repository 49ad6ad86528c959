package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
)

// TestAStalledStoreAnswers503: while the order service's store stalls (a
// fault proxy in front of Redis holds every byte), placing an order answers
// 503 with Retry-After, the first time after the store's 5 s call timeout
// and then at once, and the order service reports not ready. Once Redis
// answers again, the same Idempotency-Key places exactly one order, which
// ships.
func TestAStalledStoreAnswers503(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology")
	}
	root := daprtest.RepoRoot(t)
	proxy := startFaultProxy(t, daprtest.Redis(t))
	run := startRunWith(t, root, func(o *runner.Options) {
		o.RedisVia = map[string]string{"order-store": proxy.addr()}
	})
	gw := client{t: t, base: run.AppURL("gateway")}
	admin := loginAdmin(t, run, gw)
	product := newProduct(t, gw, admin, 10, 1000)
	s := newShopper(t, gw)
	ready := func() int {
		resp, err := http.Get(run.AppURL("order") + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	proxy.set("stall")
	for i, within := range []time.Duration{8 * time.Second, time.Second} {
		start := time.Now()
		r := s.order("during-the-stall", "tok_visa", line(product, 1))
		took := time.Since(start)
		t.Logf("order %d during the stall: %d after %s, Retry-After %q", i+1, r.status, took.Round(time.Millisecond), r.header.Get("Retry-After"))
		if r.status != 503 || r.header.Get("Retry-After") != "5" || r.body["type"] != "urn:daprshop:problem:unavailable" || took > within {
			t.Fatalf("want 503 with Retry-After 5 within %s, got %d after %s: %s", within, r.status, took, r.raw)
		}
	}
	if code := ready(); code != 503 {
		t.Errorf("the order service is ready while its store stalls: %d", code)
	}
	proxy.set("pass")

	var placed response
	deadline := time.Now().Add(20 * time.Second)
	for {
		placed = s.order("during-the-stall", "tok_visa", line(product, 1))
		if placed.status == 201 || placed.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no order 20 s after the store came back: %d %s", placed.status, placed.raw)
		}
		time.Sleep(time.Second)
	}
	if o := s.waitFinal(t, placed.body["id"].(string), 30*time.Second); o["status"] != "shipped" {
		t.Fatalf("the order placed after the stall ended %v: %v", o["status"], o["reason"])
	}
	r := s.gw.do("GET", "/api/orders/user/"+placed.body["userId"].(string), "", "Authorization", s.bearer)
	expect(t, "the buyer's orders", r, 200)
	if n := r.body["total"].(float64); n != 1 {
		t.Errorf("the buyer has %v orders, want 1: %s", n, r.raw)
	}
	if code := ready(); code != 200 {
		t.Errorf("the order service is not ready once its store answers: %d", code)
	}
	if !strings.Contains(placed.raw, `"lines"`) {
		t.Errorf("placed: %s", placed.raw)
	}
}
