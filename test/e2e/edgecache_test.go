package e2e

import (
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
)

// replicasSeeChanges: a product's read kept by the second gateway replica
// is dropped when an admin's write goes through the first, and when an
// order holds its stock, because each change's event reaches every replica
// through the "broadcast" component. Both show there within a second.
func replicasSeeChanges(t *testing.T, run *runner.Run, gw client, admin string) {
	gw2 := client{t: t, base: run.AppURL("gateway-2")}
	id := newProduct(t, gw, admin, 20, 1500)
	path := "/api/products/" + id
	// keep reads until the second replica answers from its cache: the event
	// of the change before may still arrive and drop a first read.
	keep := func() {
		t.Helper()
		for start := time.Now(); gw2.do("GET", path, "").header.Get("X-Cache") != "HIT"; {
			if time.Since(start) > 2*time.Second {
				t.Fatal("the second replica did not keep the read")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// shows polls the second replica until want holds, for at most a second.
	shows := func(what string, want func(response) bool) {
		t.Helper()
		start := time.Now()
		for {
			r := gw2.do("GET", path, "")
			if r.status == 200 && want(r) {
				t.Logf("%s: on the second replica after %s", what, time.Since(start).Round(time.Millisecond))
				return
			}
			if time.Since(start) > time.Second {
				t.Fatalf("%s: the second replica still answers %s (X-Cache %s)", what, r.raw, r.header.Get("X-Cache"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	keep()
	// Only a replica's own sidecar may make it forget: the route asks for
	// the app token, which a public caller does not have.
	expect(t, "a catalog event from outside", gw2.do("POST", "/events/catalog", `{"data":{"productId":"`+id+`"}}`), 401)
	if r := gw2.do("GET", path, ""); r.header.Get("X-Cache") != "HIT" {
		t.Fatalf("a refused event emptied the cache: X-Cache %q", r.header.Get("X-Cache"))
	}
	expect(t, "update through the first replica",
		gw.do("PUT", path, `{"name":"E2E Renamed","category":"kitchen","price":{"amount":1750,"currency":"EUR"}}`, "Authorization", admin), 200)
	shows("an admin's write", func(r response) bool {
		return r.body["price"].(map[string]any)["amount"].(float64) == 1750
	})

	keep()
	s := newShopper(t, gw)
	expect(t, "place", s.order("edge-cache", "tok_visa", line(id, 3)), 201)
	shows("stock held by an order", func(r response) bool { return r.body["available"].(float64) == 17 })
}
