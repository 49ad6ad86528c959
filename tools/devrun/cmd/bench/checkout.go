package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/daprshop/devrun/runner"
)

// checkoutStep is one offered rate's outcome.
type checkoutStep struct {
	offered                    float64
	placed, shipped, cancelled int
	latencies                  []time.Duration // POST sent → final transition, by the order's own clock
	first, last                time.Time
}

func (c checkoutStep) completed() int { return c.shipped + c.cancelled }

func (c checkoutStep) throughput() float64 {
	if c.completed() == 0 {
		return 0
	}
	return float64(c.completed()) / c.last.Sub(c.first).Seconds()
}

func (c checkoutStep) pct(p int) time.Duration {
	if len(c.latencies) == 0 {
		return 0
	}
	return c.latencies[(len(c.latencies)-1)*p/100]
}

// keptUp tells whether the system completed what was offered: at least 90%
// of the offered rate, with p99 under a second.
func (c checkoutStep) keptUp() bool {
	return c.completed() == c.placed && c.throughput() >= 0.9*c.offered && c.pct(99) <= time.Second
}

// shop is the buyers and products the checkout bench orders with: many of
// each, so that no single record (a buyer's order list, a product's stock)
// is the measured bottleneck.
type shop struct {
	call     func(method, path, token, key string, body, out any) (int, error)
	buyers   []string // access tokens
	products []string
}

func newShop(client *http.Client, gw, adminPassword string, buyers, products int) (*shop, error) {
	s := &shop{}
	s.call = func(method, path, token, key string, body, out any) (int, error) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, gw+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode, nil
	}
	login := func(email, password string) (string, error) {
		var t struct {
			AccessToken string `json:"accessToken"`
		}
		if code, err := s.call("POST", "/api/users/login", "", "", map[string]string{"email": email, "password": password}, &t); err != nil || code != 200 {
			return "", fmt.Errorf("login %s: %d %v", email, code, err)
		}
		return t.AccessToken, nil
	}
	admin, err := login(runner.AdminEmail, adminPassword)
	if err != nil {
		return nil, err
	}
	run := time.Now().UnixNano()
	for i := range buyers {
		email := fmt.Sprintf("bench-%d-%d@example.com", run, i)
		if code, err := s.call("POST", "/api/users/register", "", "", map[string]string{"email": email, "name": "Bench", "password": "correct-horse-42"}, nil); err != nil || code != 201 {
			return nil, fmt.Errorf("register %s: %d %v", email, code, err)
		}
		token, err := login(email, "correct-horse-42")
		if err != nil {
			return nil, err
		}
		s.buyers = append(s.buyers, token)
	}
	for i := range products {
		var p struct {
			ID string `json:"id"`
		}
		code, err := s.call("POST", "/api/products", admin, "", map[string]any{"name": fmt.Sprintf("Bench item %d", i), "category": "bench",
			"price": map[string]any{"amount": 1000 + i, "currency": "EUR"}, "stock": 1_000_000}, &p)
		if err != nil || code != 201 {
			return nil, fmt.Errorf("create product: %d %v", code, err)
		}
		s.products = append(s.products, p.ID)
	}
	return s, nil
}

type orderView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	History []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	} `json:"history"`
}

func (o orderView) final() bool { return o.Status == "shipped" || o.Status == "cancelled" }

// checkout places orders at a fixed rate for d (an open loop: arrivals do
// not wait for earlier orders), each of two random products by a random
// buyer, and follows each to shipped or cancelled. The time to the final
// state is read from the order's own history (the same machine's clock),
// so the status is polled rarely, with back-off, instead of loading the
// system being measured.
func (s *shop) checkout(rate float64, d time.Duration) checkoutStep {
	res := checkoutStep{offered: rate}
	var mu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	res.first = time.Now()
	for i := 0; time.Since(res.first) < d; i++ {
		time.Sleep(time.Until(res.first.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), uint64(res.first.UnixNano())))
			buyer := s.buyers[r.IntN(len(s.buyers))]
			p := r.Perm(len(s.products))
			start := time.Now()
			var o orderView
			code, err := s.call("POST", "/api/orders", buyer, fmt.Sprintf("bench-%d-%d", res.first.UnixNano(), i), map[string]any{
				"paymentMethod": "tok_visa",
				"lines":         []map[string]any{{"productId": s.products[p[0]], "quantity": 1}, {"productId": s.products[p[1]], "quantity": 2}},
			}, &o)
			if err != nil || code != 201 {
				return
			}
			wait := 100 * time.Millisecond
			for !o.final() && time.Since(start) < 2*time.Minute {
				time.Sleep(wait)
				wait = min(wait*3/2, time.Second)
				_, _ = s.call("GET", "/api/orders/"+o.ID, buyer, "", nil, &o)
			}
			mu.Lock()
			defer mu.Unlock()
			res.placed++
			if !o.final() || len(o.History) == 0 {
				return
			}
			if o.Status == "shipped" {
				res.shipped++
			} else {
				res.cancelled++
			}
			at := o.History[len(o.History)-1].At
			res.latencies = append(res.latencies, at.Sub(start))
			if at.After(res.last) {
				res.last = at
			}
		}()
	}
	wg.Wait()
	slices.Sort(res.latencies)
	return res
}

// knee offers each rate in turn until the system stops keeping up, and
// returns every step; the knee is the last step that kept up.
func (s *shop) knee(rates []float64, d time.Duration, progress func(checkoutStep)) []checkoutStep {
	var steps []checkoutStep
	for _, rate := range rates {
		step := s.checkout(rate, d)
		progress(step)
		steps = append(steps, step)
		if !step.keptUp() {
			break
		}
		time.Sleep(2 * time.Second) // let queues drain between steps
	}
	return steps
}
