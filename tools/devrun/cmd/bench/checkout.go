package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/daprshop/devrun/runner"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

type checkoutResult struct {
	placed, shipped, cancelled int
	latencies                  []time.Duration
	first, last                time.Time
}

func (c checkoutResult) throughput() float64 {
	return float64(c.shipped+c.cancelled) / c.last.Sub(c.first).Seconds()
}

func (c checkoutResult) pct(p int) time.Duration {
	if len(c.latencies) == 0 {
		return 0
	}
	return c.latencies[(len(c.latencies)-1)*p/100]
}

// checkout places orders at a fixed rate for d (an open loop: arrivals do
// not wait for earlier orders) and follows each from POST to shipped or
// cancelled.
func checkout(client *http.Client, gw, adminPassword string, rate float64, d time.Duration) (checkoutResult, error) {
	call := func(method, path, token, key string, body any, out any) (int, error) {
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
		var s struct {
			AccessToken string `json:"accessToken"`
		}
		if code, err := call("POST", "/api/users/login", "", "", map[string]string{"email": email, "password": password}, &s); err != nil || code != 200 {
			return "", fmt.Errorf("login %s: %d %v", email, code, err)
		}
		return s.AccessToken, nil
	}
	admin, err := login(runner.AdminEmail, adminPassword)
	if err != nil {
		return checkoutResult{}, err
	}
	buyerEmail := fmt.Sprintf("bench-%d@example.com", time.Now().UnixNano())
	_, _ = call("POST", "/api/users/register", "", "", map[string]string{"email": buyerEmail, "name": "Bench", "password": "correct-horse-42"}, nil)
	buyer, err := login(buyerEmail, "correct-horse-42")
	if err != nil {
		return checkoutResult{}, err
	}
	var products []string
	for i := range 2 {
		var p struct {
			ID string `json:"id"`
		}
		code, err := call("POST", "/api/products", admin, "", map[string]any{"name": fmt.Sprintf("Bench item %d", i), "category": "bench",
			"price": map[string]any{"amount": 1000 + i, "currency": "EUR"}, "stock": 1_000_000}, &p)
		if err != nil || code != 201 {
			return checkoutResult{}, fmt.Errorf("create product: %d %v", code, err)
		}
		products = append(products, p.ID)
	}

	var res checkoutResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	res.first = time.Now()
	for i := 0; time.Since(res.first) < d; i++ {
		next := res.first.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(next))
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			var o struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			code, err := call("POST", "/api/orders", buyer, fmt.Sprintf("bench-%d-%d", start.UnixNano(), i), map[string]any{
				"paymentMethod": "tok_visa",
				"lines":         []map[string]any{{"productId": products[0], "quantity": 1}, {"productId": products[1], "quantity": 2}},
			}, &o)
			if err != nil || code != 201 {
				return
			}
			for o.Status != "shipped" && o.Status != "cancelled" && time.Since(start) < time.Minute {
				time.Sleep(20 * time.Millisecond)
				_, _ = call("GET", "/api/orders/"+o.ID, buyer, "", nil, &o)
			}
			mu.Lock()
			defer mu.Unlock()
			res.placed++
			switch o.Status {
			case "shipped":
				res.shipped++
			case "cancelled":
				res.cancelled++
			default:
				return
			}
			res.latencies = append(res.latencies, time.Since(start))
			res.last = time.Now()
		}()
	}
	wg.Wait()
	slices.Sort(res.latencies)
	if res.shipped+res.cancelled == 0 {
		return res, fmt.Errorf("no order completed")
	}
	return res, nil
}
