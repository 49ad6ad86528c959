package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/daprshop/devrun/runner"
)

// catalog exercises the product service through the gateway: anonymous
// browsing and search, admin writes, and the refusals around them. It
// returns the admin's bearer token.
func catalog(t *testing.T, run *runner.Run, gw client, customer string) string {
	admin := loginAdmin(t, run, gw)
	t.Run("catalog", func(t *testing.T) { catalogChecks(t, gw, customer, admin) })
	return admin
}

// loginAdmin logs in as the bootstrap admin the user service created from
// the admin-password secret, and returns its bearer token.
func loginAdmin(t *testing.T, run *runner.Run, gw client) string {
	t.Helper()
	password, err := run.AdminPassword()
	if err != nil {
		t.Fatal(err)
	}
	r := gw.do("POST", "/api/users/login", `{"email":"`+runner.AdminEmail+`","password":"`+password+`"}`)
	expect(t, "bootstrap admin login", r, 200)
	if role := r.body["user"].(map[string]any)["role"]; role != "admin" {
		t.Fatalf("bootstrap admin has role %v", role)
	}
	return "Bearer " + r.body["accessToken"].(string)
}

func catalogChecks(t *testing.T, gw client, customer, admin string) {
	t.Run("anonymous browsing", func(t *testing.T) {
		r := gw.do("GET", "/api/products?limit=5&sort=price", "")
		expect(t, "list", r, 200)
		if r.body["total"].(float64) < 1000 {
			t.Errorf("the demo catalog is not loaded: total %v", r.body["total"])
		}
		items := r.body["items"].([]any)
		if len(items) != 5 || r.body["nextCursor"] == nil {
			t.Fatalf("page: %d items, cursor %v", len(items), r.body["nextCursor"])
		}
		next := gw.do("GET", "/api/products?limit=5&sort=price&cursor="+url.QueryEscape(r.body["nextCursor"].(string)), "")
		expect(t, "next page", next, 200)
		first, second := items[4].(map[string]any), next.body["items"].([]any)[0].(map[string]any)
		if first["id"] == second["id"] || first["price"].(map[string]any)["amount"].(float64) > second["price"].(map[string]any)["amount"].(float64) {
			t.Errorf("page 2 does not continue page 1: %v then %v", first, second)
		}
		r = gw.do("GET", "/api/products?category=kitchen&inStock=true&minPrice=1000&maxPrice=5000&limit=100", "")
		expect(t, "filtered", r, 200)
		for _, it := range r.body["items"].([]any) {
			p := it.(map[string]any)
			amount := p["price"].(map[string]any)["amount"].(float64)
			if p["category"] != "kitchen" || p["inStock"] != true || amount < 1000 || amount > 5000 {
				t.Fatalf("filter let through %v", p)
			}
		}
		expect(t, "unknown product", gw.do("GET", "/api/products/"+uuid.NewString(), ""), 404)
		r = gw.do("GET", "/api/products?sort=random&limit=1000", "")
		expect(t, "bad query", r, 400)
		if errs, _ := r.body["errors"].([]any); len(errs) != 2 {
			t.Errorf("want errors for sort and limit: %v", r.body["errors"])
		}
	})

	token := "zx" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	body := fmt.Sprintf(`{"name":"E2E Teapot %s","description":"cast iron","category":"kitchen","price":{"amount":2450,"currency":"EUR"},"stock":7}`, token)
	var id string
	t.Run("admin writes", func(t *testing.T) {
		expect(t, "anonymous create", gw.do("POST", "/api/products", body), 401)
		expect(t, "customer create", gw.do("POST", "/api/products", body, "Authorization", customer), 403)
		r := gw.do("POST", "/api/products", `{"name":"","category":"Kitchen Stuff","price":{"amount":-5,"currency":"euro"}}`, "Authorization", admin)
		expect(t, "invalid product", r, 400)
		fields := map[string]bool{}
		for _, e := range r.body["errors"].([]any) {
			fields[e.(map[string]any)["field"].(string)] = true
		}
		for _, f := range []string{"name", "price.currency"} {
			if !fields[f] {
				t.Errorf("no message for %s: %v", f, r.body["errors"])
			}
		}

		r = gw.do("POST", "/api/products", body, "Authorization", admin)
		expect(t, "create", r, 201)
		id = r.body["id"].(string)
		r = gw.do("GET", "/api/products?q="+token, "")
		expect(t, "search the new product", r, 200)
		if r.body["total"].(float64) != 1 || r.body["items"].([]any)[0].(map[string]any)["id"] != id {
			t.Fatalf("search for %s: %v", token, r.raw)
		}
		r = gw.do("PUT", "/api/products/"+id, strings.Replace(body, `"amount":2450`, `"amount":1999`, 1), "Authorization", admin)
		expect(t, "update", r, 200)
		if r.body["price"].(map[string]any)["amount"].(float64) != 1999 || r.body["version"].(float64) != 2 {
			t.Errorf("updated = %v", r.body)
		}
		// The gateway keeps catalog reads; a write through it empties what
		// it kept, so the next read already shows the change.
		first := gw.do("GET", "/api/products/"+id, "")
		second := gw.do("GET", "/api/products/"+id, "")
		if first.body["price"].(map[string]any)["amount"].(float64) != 1999 || second.raw != first.raw {
			t.Errorf("reads after the update: %s then %s", first.raw, second.raw)
		}
		if got := first.header.Get("X-Cache") + " " + second.header.Get("X-Cache"); got != "MISS HIT" {
			t.Errorf("X-Cache: %s, want MISS HIT", got)
		}
		etag := second.header.Get("ETag")
		if r := gw.do("GET", "/api/products/"+id, "", "If-None-Match", etag); r.status != 304 || etag == "" {
			t.Errorf("revalidation with ETag %q: %d", etag, r.status)
		}
		expect(t, "customer delete", gw.do("DELETE", "/api/products/"+id, "", "Authorization", customer), 403)
		expect(t, "delete", gw.do("DELETE", "/api/products/"+id, "", "Authorization", admin), 204)
		expect(t, "deleted", gw.do("GET", "/api/products/"+id, ""), 404)
		r = gw.do("GET", "/api/products?q="+token, "")
		if r.body["total"].(float64) != 0 {
			t.Errorf("deleted product still listed: %v", r.raw)
		}
	})

	t.Run("inventory is not reachable from outside", func(t *testing.T) {
		expect(t, "reserve", gw.do("POST", "/api/inventory/reservations", `{"orderId":"x","lines":[]}`, "Authorization", admin), 404)
	})
}
