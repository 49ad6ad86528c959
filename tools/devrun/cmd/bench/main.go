// Command bench measures the catalog's read path under a fixed load: the
// same requests through the gateway and both sidecars, and straight to the
// product service (the baseline), in one run on one machine, so the ratio
// between them is meaningful even where absolute figures are noisy.
//
//	go run ./tools/devrun/cmd/bench [-c 16] [-d 10s] [-products 10000]
//
// It brings up its own isolated topology (free ports, Redis database 15,
// which it empties first) and prints a Markdown table.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/redisdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// benchDB is the Redis database the benchmark owns (see runner.Options.RedisDB).
const benchDB = 15

func run() error {
	concurrency := flag.Int("c", 16, "concurrent clients (closed loop)")
	duration := flag.Duration("d", 10*time.Second, "measured time per scenario")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured time before each scenario")
	products := flag.Int("products", 10000, "catalog size")
	rate := flag.Float64("rate", 10, "checkout: orders placed per second (open loop)")
	orders := flag.Duration("orders-for", 20*time.Second, "checkout: how long orders are placed")
	runFile := flag.String("f", "dapr.yaml", "multi-app run file")
	flag.Parse()

	redis := os.Getenv("REDIS_ADDR")
	if redis == "" {
		redis = "127.0.0.1:6379"
	}
	if err := redisdb.Flush(redis, benchDB); err != nil {
		return fmt.Errorf("empty Redis database %d at %s: %w", benchDB, redis, err)
	}
	stateDir, err := os.MkdirTemp("", "daprshop-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)
	logFile, err := os.Create(filepath.Join(stateDir, "topology.log"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fmt.Fprintf(os.Stderr, "starting the topology with %d products…\n", *products)
	topo, err := runner.Start(ctx, runner.Options{
		RunFile: *runFile, FreePorts: true, RedisDB: benchDB, StateDir: stateDir, Out: logFile,
		Env: map[string]map[string]string{
			"product": {"DEMO_CATALOG": strconv.Itoa(*products)},
			// Measure the saga, not the simulated warehouse's wait.
			"order": {"FULFILMENT_DELAY": "0s"},
		},
	})
	if err != nil {
		return err
	}
	defer topo.Stop()

	gw, direct := topo.AppURL("gateway"), topo.AppURL("product")
	token := http.Header{"Dapr-Api-Token": {topo.AppToken("product")}}
	productID := func(r *rand.Rand) string { return fmt.Sprintf("demo-%05d", 1+r.IntN(*products)) }
	scenarios := []scenario{
		{"GET /products?limit=20 (list, sorted by name)", "direct", func(*rand.Rand) string { return direct + "/products?limit=20" }, token},
		{"GET /products?limit=20 (list, sorted by name)", "gateway", func(*rand.Rand) string { return gw + "/api/products?limit=20" }, nil},
		{"GET /products?q=oak&inStock=true&sort=price", "direct", func(*rand.Rand) string { return direct + "/products?q=oak&inStock=true&sort=price" }, token},
		{"GET /products?q=oak&inStock=true&sort=price", "gateway", func(*rand.Rand) string { return gw + "/api/products?q=oak&inStock=true&sort=price" }, nil},
		{"GET /products/{id}", "direct", func(r *rand.Rand) string { return direct + "/products/" + productID(r) }, token},
		{"GET /products/{id}", "gateway", func(r *rand.Rand) string { return gw + "/api/products/" + productID(r) }, nil},
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2}, Timeout: 10 * time.Second}
	results := make([]result, len(scenarios))
	for i, s := range scenarios {
		fmt.Fprintf(os.Stderr, "%s via %s…\n", s.name, s.path)
		load(client, s, *concurrency, *warmup)
		results[i] = load(client, s, *concurrency, *duration)
		if results[i].errors > 0 {
			return fmt.Errorf("%s via %s: %d of %d requests failed (first: %s)", s.name, s.path, results[i].errors,
				results[i].errors+len(results[i].latencies), results[i].firstErr)
		}
	}

	fmt.Printf("Catalog read path, %d products, %d concurrent clients, %s per scenario, %s\n\n",
		*products, *concurrency, *duration, time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| request | path | req/s | p50 | p99 | gateway ÷ direct |")
	fmt.Println("|---|---|---:|---:|---:|---|")
	for i, r := range results {
		s := scenarios[i]
		ratio := ""
		if s.path == "gateway" {
			d := results[i-1]
			ratio = fmt.Sprintf("%.2f× throughput, %.1f× p50", r.rps()/d.rps(), float64(r.pct(50))/float64(d.pct(50)))
		}
		fmt.Printf("| %s | %s | %.0f | %s | %s | %s |\n", s.name, s.path, r.rps(), ms(r.pct(50)), ms(r.pct(99)), ratio)
	}
	fmt.Println("\ndirect: the product service's own port (with the sidecar's app token);")
	fmt.Println("gateway: client → gateway → gateway's daprd → product's daprd → product service.")

	fmt.Fprintf(os.Stderr, "checkout: %.0f orders/s for %s…\n", *rate, *orders)
	adminPassword, err := topo.AdminPassword()
	if err != nil {
		return err
	}
	co, err := checkout(client, gw, adminPassword, *rate, *orders)
	if err != nil {
		return err
	}
	fmt.Printf("\nCheckout, %.0f orders/s offered for %s (open loop), fulfilment delay 0: %d orders, %d shipped, %d cancelled\n\n",
		*rate, *orders, co.placed, co.shipped, co.cancelled)
	fmt.Println("| completed orders/s | POST → final p50 | p99 | max |")
	fmt.Println("|---:|---:|---:|---:|")
	fmt.Printf("| %.1f | %s | %s | %s |\n", co.throughput(), ms(co.pct(50)), ms(co.pct(99)), ms(co.pct(100)))
	fmt.Println("\nEach order: validate the buyer, price 2 lines from the catalog, reserve, charge, commit, mark paid,")
	fmt.Println("ship; every step a workflow activity, every call through two sidecars.")
	return nil
}

type scenario struct {
	name, path string
	url        func(*rand.Rand) string
	header     http.Header
}

type result struct {
	latencies []time.Duration
	errors    int
	firstErr  string
	elapsed   time.Duration
}

func (r result) rps() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r result) pct(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[(len(r.latencies)-1)*p/100]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// load runs a closed loop: each of c clients sends its next request as soon
// as the previous one is answered, for d.
func load(client *http.Client, s scenario, c int, d time.Duration) result {
	var mu sync.Mutex
	var res result
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			var local []time.Duration
			errs, first := 0, ""
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, s.url(r), nil)
				for k, v := range s.header {
					req.Header[k] = v
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil {
					if errs == 0 {
						first = err.Error()
					}
					errs++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, local...)
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}
