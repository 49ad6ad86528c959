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
		h := http.Header{}
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		if key != "" {
			h.Set("Idempotency-Key", key)
		}
		return callJSON(client, method, gw+path, h, body, out)
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

// callJSON sends body as JSON with headers h and decodes the answer into
// out (when not nil); it returns the status.
func callJSON(client *http.Client, method, url string, h http.Header, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
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

// workload places one unit of work (an order, a workflow) and follows it
// to its end. placed is false when it was refused; outcome is its final
// state ("" when it never got there) and at the moment it got there, by
// the system's own clock (the same machine's).
type workload func(i int, r *rand.Rand, sent time.Time) (placed bool, outcome string, at time.Time)

// offer places work at a fixed rate for d (an open loop: arrivals do not
// wait for earlier ones) and collects how and when each ended. Ends count
// as finished unless their outcome is "cancelled" or "FAILED".
func offer(rate float64, d time.Duration, w workload) checkoutStep {
	res := checkoutStep{offered: rate}
	var mu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	res.first = time.Now()
	for i := 0; time.Since(res.first) < d; i++ {
		time.Sleep(time.Until(res.first.Add(time.Duration(i) * interval)))
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), uint64(res.first.UnixNano())))
			sent := time.Now()
			placed, outcome, at := w(i, r, sent)
			mu.Lock()
			defer mu.Unlock()
			if !placed {
				return
			}
			res.placed++
			switch outcome {
			case "":
				return
			case "cancelled", "FAILED":
				res.cancelled++
			default:
				res.shipped++
			}
			res.latencies = append(res.latencies, at.Sub(sent))
			if at.After(res.last) {
				res.last = at
			}
		})
	}
	wg.Wait()
	slices.Sort(res.latencies)
	return res
}

// follow polls get until done says the work ended, with back-off (100 ms,
// then 1.5x up to 1 s) so that following is a small part of the load.
func follow(get func() bool) {
	start := time.Now()
	for wait := 100 * time.Millisecond; !get() && time.Since(start) < 2*time.Minute; wait = min(wait*3/2, time.Second) {
		time.Sleep(wait)
	}
}

// order places an order of two random products by a random buyer and
// follows it to shipped or cancelled; the end is the order's own last
// transition time.
func (s *shop) order(i int, r *rand.Rand, sent time.Time) (bool, string, time.Time) {
	buyer := s.buyers[r.IntN(len(s.buyers))]
	p := r.Perm(len(s.products))
	var o orderView
	code, err := s.call("POST", "/api/orders", buyer, fmt.Sprintf("bench-%d-%d", sent.UnixNano(), i), map[string]any{
		"paymentMethod": "tok_visa",
		"lines":         []map[string]any{{"productId": s.products[p[0]], "quantity": 1}, {"productId": s.products[p[1]], "quantity": 2}},
	}, &o)
	if err != nil || code != 201 {
		return false, "", time.Time{}
	}
	follow(func() bool {
		if !o.final() {
			_, _ = s.call("GET", "/api/orders/"+o.ID, buyer, "", nil, &o)
		}
		return o.final()
	})
	if !o.final() || len(o.History) == 0 {
		return true, "", time.Time{}
	}
	return true, o.Status, o.History[len(o.History)-1].At
}

// knee offers each rate in turn until the system stops keeping up, and
// returns every step; the knee is the last step that kept up.
func knee(rates []float64, d time.Duration, w workload, progress func(checkoutStep)) []checkoutStep {
	var steps []checkoutStep
	for _, rate := range rates {
		step := offer(rate, d, w)
		progress(step)
		steps = append(steps, step)
		if !step.keptUp() {
			break
		}
		time.Sleep(2 * time.Second) // let queues drain between steps
	}
	return steps
}
