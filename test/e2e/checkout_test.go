package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/daprshop/devrun/runner"
)

// shopper is a registered, logged-in buyer.
type shopper struct {
	gw     client
	id     string
	email  string
	bearer string
}

func newShopper(t *testing.T, gw client) shopper {
	t.Helper()
	email := "buyer-" + uuid.NewString()[:8] + "@example.com"
	expect(t, "register buyer", gw.do("POST", "/api/users/register", `{"email":"`+email+`","name":"Bea","password":"correct-horse-42"}`), 201)
	r := gw.do("POST", "/api/users/login", `{"email":"`+email+`","password":"correct-horse-42"}`)
	expect(t, "buyer login", r, 200)
	id, _ := r.body["user"].(map[string]any)["id"].(string)
	return shopper{gw: gw, id: id, email: email, bearer: "Bearer " + r.body["accessToken"].(string)}
}

func (s shopper) order(key, method string, lines ...string) response {
	body := fmt.Sprintf(`{"lines":[%s],"paymentMethod":"%s"}`, strings.Join(lines, ","), method)
	return s.gw.do("POST", "/api/orders", body, "Authorization", s.bearer, "Idempotency-Key", key)
}

func line(productID string, qty int) string {
	return fmt.Sprintf(`{"productId":"%s","quantity":%d}`, productID, qty)
}

// waitFinal polls an order until it is shipped or cancelled.
func (s shopper) waitFinal(t *testing.T, id string, within time.Duration) map[string]any {
	t.Helper()
	return s.waitStatus(t, id, within, "shipped", "cancelled")
}

func (s shopper) waitStatus(t *testing.T, id string, within time.Duration, statuses ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := s.gw.do("GET", "/api/orders/"+id, "", "Authorization", s.bearer)
		if r.status == 200 {
			for _, st := range statuses {
				if r.body["status"] == st {
					return r.body
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s still %v after %s (want %v): %s", id, r.body["status"], within, statuses, r.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// available is a product's stock as the product service has it now: the
// query is new each time, so the gateway's edge cache (which may show
// stock up to its TTL old) never answers it.
func available(t *testing.T, gw client, id string) int {
	t.Helper()
	r := gw.do("GET", "/api/products/"+id+"?fresh="+uuid.NewString(), "")
	expect(t, "product", r, 200)
	return int(r.body["available"].(float64))
}

func newProduct(t *testing.T, gw client, admin string, stock, price int) string {
	t.Helper()
	r := gw.do("POST", "/api/products", fmt.Sprintf(`{"name":"E2E Kettle %s","category":"kitchen","price":{"amount":%d,"currency":"EUR"},"stock":%d}`,
		uuid.NewString()[:6], price, stock), "Authorization", admin)
	expect(t, "create product", r, 201)
	return r.body["id"].(string)
}

func payment(t *testing.T, gw client, admin, id string) map[string]any {
	t.Helper()
	r := gw.do("GET", "/api/payments/"+id, "", "Authorization", admin)
	expect(t, "payment "+id, r, 200)
	return r.body
}

// checkout exercises orders, payments and notifications through the gateway.
func checkout(t *testing.T, run *runner.Run, gw client, admin string) {
	lamp, mug := newProduct(t, gw, admin, 10, 2499), newProduct(t, gw, admin, 5, 899)
	box := mailboxOf(run)

	t.Run("happy path: shipped, stock taken, one payment, emails", func(t *testing.T) {
		happyPath(t, gw, box, admin, lamp, mug)
	})
	t.Run("declined card: cancelled with the reason, stock back, no charge", func(t *testing.T) {
		declined(t, gw, box, admin, lamp)
	})
	t.Run("one Idempotency-Key three times at once: one order, one charge", func(t *testing.T) {
		sameKeyThrice(t, gw, admin, mug)
	})
	t.Run("a transient payment failure is retried and the order completes", func(t *testing.T) {
		s := newShopper(t, gw)
		r := s.order("flaky", "tok_transient", line(lamp, 1))
		expect(t, "place", r, 201)
		o := s.waitFinal(t, r.body["id"].(string), 60*time.Second)
		if o["status"] != "shipped" {
			t.Fatalf("order %v: %v", o["status"], o["reason"])
		}
		if p := payment(t, gw, admin, o["paymentId"].(string)); p["status"] != "succeeded" || p["attempts"].(float64) < 3 {
			t.Fatalf("payment %v: want success after at least 3 attempts", p)
		}
	})

	t.Run("cancelling a paid, unshipped order refunds and releases", func(t *testing.T) {
		s := newShopper(t, gw)
		before := available(t, gw, lamp)
		r := s.order("regret", "tok_visa", line(lamp, 2))
		expect(t, "place", r, 201)
		id := r.body["id"].(string)
		s.waitStatus(t, id, 30*time.Second, "paid")
		expect(t, "cancel", s.gw.do("POST", "/api/orders/"+id+"/cancel", "", "Authorization", s.bearer), 202)
		o := s.waitFinal(t, id, 30*time.Second)
		if o["status"] != "cancelled" {
			t.Fatalf("order %v", o["status"])
		}
		p := payment(t, gw, admin, o["paymentId"].(string))
		if p["status"] != "succeeded" || p["refunded"] != p["amount"].(map[string]any)["amount"] {
			t.Fatalf("payment %v: want fully refunded", p)
		}
		if got := available(t, gw, lamp); got != before {
			t.Fatalf("stock %d, was %d", got, before)
		}
		expect(t, "cancel again", s.gw.do("POST", "/api/orders/"+id+"/cancel", "", "Authorization", s.bearer), 202)
		waitEmails(t, box, s.email, "order.cancelled", "payment.refunded")
	})

	t.Run("orders are private and listed per user", func(t *testing.T) {
		a, b := newShopper(t, gw), newShopper(t, gw)
		r := a.order("mine", "tok_visa", line(mug, 1))
		expect(t, "place", r, 201)
		id := r.body["id"].(string)
		expect(t, "another buyer reads it", b.gw.do("GET", "/api/orders/"+id, "", "Authorization", b.bearer), 404)
		userID := r.body["userId"].(string)
		expect(t, "another buyer lists them", b.gw.do("GET", "/api/orders/user/"+userID, "", "Authorization", b.bearer), 403)
		l := a.gw.do("GET", "/api/orders/user/"+userID, "", "Authorization", a.bearer)
		expect(t, "own list", l, 200)
		if l.body["total"].(float64) != 1 {
			t.Fatalf("list %s", l.raw)
		}
		expect(t, "customer sets a status", a.gw.do("PUT", "/api/orders/"+id+"/status", `{"status":"delivered"}`, "Authorization", a.bearer), 403)
		a.waitFinal(t, id, 30*time.Second)
		expect(t, "admin delivers", gw.do("PUT", "/api/orders/"+id+"/status", `{"status":"delivered"}`, "Authorization", admin), 202)
		expect(t, "no order without a key", a.gw.do("POST", "/api/orders", `{"lines":[`+line(mug, 1)+`],"paymentMethod":"tok_visa"}`, "Authorization", a.bearer), 400)
	})

	t.Run("a poison event reaches the dead-letter topic after the configured deliveries, and replays", func(t *testing.T) {
		poison(t, run, gw, admin)
	})

	t.Run("crash: kill -9 the order service and its sidecar with 20 orders in flight", func(t *testing.T) {
		crash(t, run, gw, admin)
	})

	t.Run("restart placement and the scheduler with orders in flight", func(t *testing.T) {
		s := newShopper(t, gw)
		product := newProduct(t, gw, admin, 50, 999)
		var ids []string
		for i := range 5 {
			r := s.order(fmt.Sprintf("cp-%d", i), "tok_visa", line(product, 1))
			expect(t, "place", r, 201)
			ids = append(ids, r.body["id"].(string))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := run.RestartControlPlane(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if o := s.waitFinal(t, id, 2*time.Minute); o["status"] != "shipped" {
				t.Errorf("order %s ended %v: %v", id, o["status"], o["reason"])
			}
		}
	})
}

// happyPath orders two products: the order ships, stock is taken, one
// payment covers the total, and the buyer gets the emails of each step.
func happyPath(t *testing.T, gw client, box mailbox, admin, lamp, mug string) {
	s := newShopper(t, gw)
	lampBefore, mugBefore := available(t, gw, lamp), available(t, gw, mug)
	r := s.order("happy", "tok_visa", line(lamp, 2), line(mug, 1))
	expect(t, "place", r, 201)
	if r.body["status"] != "pending" || r.body["userId"] == "" {
		t.Fatalf("placed: %s", r.raw)
	}
	o := s.waitFinal(t, r.body["id"].(string), 30*time.Second)
	if o["status"] != "shipped" {
		t.Fatalf("order ended %v: %v", o["status"], o["reason"])
	}
	if a, m := available(t, gw, lamp), available(t, gw, mug); a != lampBefore-2 || m != mugBefore-1 {
		t.Fatalf("stock lamp %d mug %d, want %d and %d", a, m, lampBefore-2, mugBefore-1)
	}
	p := payment(t, gw, admin, o["paymentId"].(string))
	total := o["total"].(map[string]any)["amount"].(float64)
	if p["status"] != "succeeded" || p["amount"].(map[string]any)["amount"].(float64) != total || p["refunded"].(float64) != 0 {
		t.Fatalf("payment %v for total %v", p, total)
	}
	var history []string
	for _, h := range o["history"].([]any) {
		history = append(history, h.(map[string]any)["status"].(string))
	}
	if strings.Join(history, ">") != "pending>reserved>paid>shipped" {
		t.Errorf("history %v", history)
	}
	waitEmails(t, box, s.email, "user.registered", "order.paid", "order.shipped")
}

// declined pays with a card the provider declines: the saga compensates.
func declined(t *testing.T, gw client, box mailbox, admin, product string) {
	s := newShopper(t, gw)
	before := available(t, gw, product)
	r := s.order("declined", "tok_decline", line(product, 1))
	expect(t, "place", r, 201)
	o := s.waitFinal(t, r.body["id"].(string), 30*time.Second)
	if o["status"] != "cancelled" || !strings.Contains(o["reason"].(string), "declined") {
		t.Fatalf("order %v: %v", o["status"], o["reason"])
	}
	if got := available(t, gw, product); got != before {
		t.Fatalf("stock %d, was %d", got, before)
	}
	if p := payment(t, gw, admin, o["paymentId"].(string)); p["status"] != "declined" {
		t.Fatalf("payment %v", p)
	}
	waitEmails(t, box, s.email, "order.cancelled")
}

// sameKeyThrice sends one Idempotency-Key three times at once: one order,
// one charge; the key with another body is refused.
func sameKeyThrice(t *testing.T, gw client, admin, product string) {
	s := newShopper(t, gw)
	before := available(t, gw, product)
	var wg sync.WaitGroup
	results := make([]response, 3)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = s.order("same-key", "tok_visa", line(product, 1)) }()
	}
	wg.Wait()
	created := 0
	for _, r := range results {
		if r.status == 201 {
			created++
		} else if r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("answer %d %s", r.status, r.raw)
		}
		if r.body["id"] != results[0].body["id"] {
			t.Fatalf("two orders: %v and %v", r.body["id"], results[0].body["id"])
		}
	}
	if created != 1 {
		t.Fatalf("%d answers said created, want 1", created)
	}
	o := s.waitFinal(t, results[0].body["id"].(string), 30*time.Second)
	if o["status"] != "shipped" || available(t, gw, product) != before-1 {
		t.Fatalf("order %v, stock %d (was %d)", o["status"], available(t, gw, product), before)
	}
	if p := payment(t, gw, admin, o["paymentId"].(string)); p["attempts"].(float64) != 1 {
		t.Fatalf("payment charged in %v attempts", p["attempts"])
	}
	r := s.order("same-key", "tok_visa", line(product, 2))
	expect(t, "same key, other body", r, http.StatusUnprocessableEntity)
}

// configuredDeliveries reads the eventDelivery policy from the repository's
// resiliency file: 1 + maxRetries.
func configuredDeliveries(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "dapr-config", "resiliency", "resiliency.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "eventDelivery:")
	var retries int
	if _, err := fmt.Sscanf(s[strings.Index(s[i:], "maxRetries:")+i:], "maxRetries: %d", &retries); err != nil {
		t.Fatalf("no maxRetries under eventDelivery: %v", err)
	}
	return 1 + retries
}
