// Command bench measures the catalog's read path under a fixed load: the
// same requests through the gateway and both sidecars, and straight to the
// product service (the baseline), in one run on one machine, so the ratio
// between them is meaningful even where absolute figures are noisy.
//
//	go run ./tools/devrun/cmd/bench [-c 16] [-d 10s] [-products 10000] [-rates 2,4,8] [-out docs/bench]
//
// It brings up its own isolated topology (free ports, Redis database 15,
// which it empties first), prints Markdown tables, writes them to
// <out>/results.md and draws the checkout's curves as PNG files there. It
// also measures the sidecar tax (hops.go) and finds the checkout's knee
// (checkout.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	rates := flag.String("rates", "2,4,8,12,16,20,24,28,32,40,48,56,64,80,96,112,128,160", "checkout: offered rates (orders/s, open loop) tried in turn until the system falls behind")
	orders := flag.Duration("orders-for", 15*time.Second, "checkout: how long each rate is offered")
	outDir := flag.String("out", "docs/bench", "where the report (results.md) and the plots (PNG) are written")
	runFile := flag.String("f", "dapr.yaml", "multi-app run file")
	hopRate := flag.Int("hop-rate", 500, "sidecar tax: calls per second (open loop)")
	hopFor := flag.Duration("hop-for", 10*time.Second, "sidecar tax: measured time per path")
	only := flag.String("only", "catalog,tax,checkout", "which parts to run (catalog, tax, checkout); the checkout includes its workflow baseline")
	flag.Parse()
	parts := map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		parts[strings.TrimSpace(p)] = true
	}
	offered, err := parseRates(*rates)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	reportFile, err := os.Create(filepath.Join(*outDir, "results.md"))
	if err != nil {
		return err
	}
	defer reportFile.Close()
	out := io.MultiWriter(os.Stdout, reportFile)

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
			// Every request comes from one address: the seed's limits would
			// refuse the load. Limits this high are still counted in Redis on
			// every request, as in production.
			"gateway": {"RATE_LIMITS": "users=10000000/1m,products=10000000/1m,orders=10000000/1m,payments=10000000/1m,admin=10000000/1m,global=10000000/1m"},
		},
	})
	if err != nil {
		return err
	}
	defer topo.Stop()

	time.Sleep(5 * time.Second) // settle after start-up and the demo import
	idleMemory := memoryOf(processes(topo))
	gw, direct := topo.AppURL("gateway"), topo.AppURL("product")
	token := http.Header{"Dapr-Api-Token": {topo.AppToken("product")}}
	productID := func(r *rand.Rand) string { return fmt.Sprintf("demo-%05d", 1+r.IntN(*products)) }
	// The gateway's edge cache (gateway.cache_ttl for lists, 1 s by
	// default; gateway.item_cache_ttl for one product, 1 m, emptied by its
	// change events) is switched through the live configuration between
	// scenarios.
	cache := func(lists, items string) func() error {
		return func() error {
			if err := topo.SetConfig("gateway.cache_ttl", lists); err != nil {
				return err
			}
			if err := topo.SetConfig("gateway.item_cache_ttl", items); err != nil {
				return err
			}
			time.Sleep(1500 * time.Millisecond) // the gateway applies it within a second
			return nil
		}
	}
	list := func(*rand.Rand) string { return "/products?limit=20" }
	search := func(*rand.Rand) string { return "/products?q=oak&inStock=true&sort=price" }
	byID := func(r *rand.Rand) string { return "/products/" + productID(r) }
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2}, Timeout: 10 * time.Second}
	if parts["catalog"] {
		var scenarios []scenario
		for _, q := range []struct {
			name string
			path func(*rand.Rand) string
		}{
			{"GET /products?limit=20 (list, sorted by name)", list},
			{"GET /products?q=oak&inStock=true&sort=price", search},
			{"GET /products/{id} (10,000 products at random)", byID},
		} {
			scenarios = append(scenarios,
				scenario{q.name, "direct", func(r *rand.Rand) string { return direct + q.path(r) }, token, nil},
				scenario{q.name, "gateway, no cache", func(r *rand.Rand) string { return gw + "/api" + q.path(r) }, nil, cache("0s", "0s")},
				scenario{q.name, "gateway, edge cache", func(r *rand.Rand) string { return gw + "/api" + q.path(r) }, nil, cache("1s", "1m")},
			)
		}

		// A cache of 10,000 products read at random fills over minutes at
		// this machine's miss rate, and its 10 s above are mostly misses: a
		// shop's product pages are read far longer than that. Measured again
		// once every product has been read once, as a running shop's are.
		scenarios = append(scenarios, scenario{"GET /products/{id} (10,000 products at random)", "gateway, edge cache, warm",
			func(r *rand.Rand) string { return gw + "/api" + byID(r) }, nil, func() error {
				return readAll(client, gw+"/api/products/", *products, *concurrency)
			}})

		results := make([]result, len(scenarios))
		for i, s := range scenarios {
			fmt.Fprintf(os.Stderr, "%s via %s…\n", s.name, s.path)
			if s.setup != nil {
				if err := s.setup(); err != nil {
					return err
				}
			}
			load(client, s, *concurrency, *warmup)
			results[i] = load(client, s, *concurrency, *duration)
			if results[i].errors > 0 {
				return fmt.Errorf("%s via %s: %d of %d requests failed (first: %s)", s.name, s.path, results[i].errors,
					results[i].errors+len(results[i].latencies), results[i].firstErr)
			}
		}

		fmt.Fprintf(out, "Catalog read path, %d products, %d concurrent clients, %s per scenario, %s\n\n",
			*products, *concurrency, *duration, time.Now().UTC().Format("2006-01-02"))
		fmt.Fprintln(out, "| request | path | req/s | p50 | p99 | ÷ direct |")
		fmt.Fprintln(out, "|---|---|---:|---:|---:|---|")
		var d result
		for i, r := range results {
			s := scenarios[i]
			ratio := ""
			if s.path == "direct" {
				d = r
			} else {
				ratio = fmt.Sprintf("%.2f× throughput, %.1f× p50", r.rps()/d.rps(), float64(r.pct(50))/float64(d.pct(50)))
			}
			fmt.Fprintf(out, "| %s | %s | %.0f | %s | %s | %s |\n", s.name, s.path, r.rps(), ms(r.pct(50)), ms(r.pct(99)), ratio)
		}
		fmt.Fprintln(out, "\ndirect: the product service's own port (with the sidecar's app token);")
		fmt.Fprintln(out, "gateway: client → gateway → gateway's daprd → product's daprd → product service;")
		fmt.Fprintln(out, "edge cache: the gateway answers itself a list it fetched less than 1 s ago, and one product's")
		fmt.Fprintln(out, "read it fetched less than 1 m ago and has had no change event for since (README, \"The edge\");")
		fmt.Fprintln(out, "it starts empty for each row, except warm: every product read once through the gateway first.")

	}
	if parts["tax"] {
		fmt.Fprintf(os.Stderr, "sidecar tax: %d calls/s for %s per path…\n", *hopRate, *hopFor)
		hops, err := sidecarTax(topo, *hopRate, *hopFor)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\nSidecar tax: GET /products/demo-00001 at %d calls/s (open loop, vegeta), %s per path\n\n", *hopRate, *hopFor)
		fmt.Fprintln(out, "| path | p50 | p99 | p50 added | p99 added |")
		fmt.Fprintln(out, "|---|---:|---:|---:|---:|")
		for _, h := range hops {
			fmt.Fprintf(out, "| %s | %s | %s | +%s | +%s |\n", h.name, ms(h.p50), ms(h.p99), ms(h.p50-hops[0].p50), ms(h.p99-hops[0].p99))
		}
		fmt.Fprintln(out, "\nDapr publishes +0.91 ms p50 and +2.04 ms p99 for two sidecars at 1,000 req/s on 8 vCPU.")

	}
	if !parts["checkout"] {
		return nil
	}
	adminPassword, err := topo.AdminPassword()
	if err != nil {
		return err
	}
	sh, err := newShop(client, gw, adminPassword, 20, 50)
	if err != nil {
		return err
	}
	progress := func(what string) func(checkoutStep) {
		return func(c checkoutStep) {
			fmt.Fprintf(os.Stderr, "%s at %g/s: %d of %d completed, %.1f/s, p99 %s\n", what, c.offered, c.completed(), c.placed, c.throughput(), ms(c.pct(99)))
		}
	}
	steps, at75, cpu, loadedMemory := kneeAnd75(offered, *orders, sh.order, processes(topo), progress("checkout"))
	topo.Stop() // the baseline runs alone, on a control plane of its own

	fmt.Fprintf(os.Stderr, "workflow baseline: wfbaseline in place of the order service…\n")
	// The start-up deadline above has run out by now: the baseline gets its own.
	baseCtx, cancelBase := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancelBase()
	baseTopo, baseWork, err := baseline(baseCtx, *runFile, stateDir, logFile, client)
	if err != nil {
		return err
	}
	baseSteps, base75, baseCPU, _ := kneeAnd75(offered, *orders, baseWork, processes(baseTopo), progress("baseline"))
	baseTopo.Stop()

	fmt.Fprintf(out, "\nCheckout, each rate offered for %s (open loop), 20 buyers, 50 products, 2 lines an order, fulfilment delay 0\n\n", *orders)
	kneeTable(out, steps, at75)
	fmt.Fprintln(out, "Each order: check the buyer while the product service prices both lines and holds their stock")
	fmt.Fprintln(out, "(one call), charge, then commit the stock while the order is recorded paid, then ship: 3 workflow")
	fmt.Fprintln(out, "activities, every call through two sidecars. The time to the final state is the order's own last")
	fmt.Fprintln(out, "transition time minus the moment the POST was sent; each order's status is polled with back-off")
	fmt.Fprintln(out, "(100 ms, then 1.5× up to 1 s), so polling is a small part of the load.")
	fmt.Fprintf(out, "\nBaseline: Dapr's workflow perf-test shape (5 chained no-op activities) in place of the order service,\n")
	fmt.Fprintf(out, "same sidecar configuration and components, started through the sidecar's workflow API, each rate for %s\n\n", *orders)
	kneeTable(out, baseSteps, base75)
	ck, bk := kneeOf(steps), kneeOf(baseSteps)
	fmt.Fprintf(out, "Checkout knee ÷ baseline knee in this run: %g ÷ %g = %.2f×.\n", ck, bk, ck/max(bk, 1e-9))
	if at75 != nil {
		fmt.Fprintf(out, "\nCPU time per checkout by process at 75%% of the knee (%g/s; user+system from /proc, this machine's 2 cores)\n\n", at75.offered)
		cpuTable(out, cpu)
	}
	if loadedMemory != nil {
		fmt.Fprintf(out, "\nMemory of every process, idle (after start-up, 10,000 products loaded) and at 75%% of the checkout's knee\n")
		fmt.Fprintf(out, "(from /proc/<pid>/smaps_rollup; PSS counts pages shared between processes, such as daprd's binary, once in all)\n\n")
		memoryTable(out, idleMemory, loadedMemory, fmt.Sprintf("at %g/s", at75.offered))
	}
	if base75 != nil {
		fmt.Fprintf(out, "\nCPU time per baseline workflow by process at 75%% of its knee (%g/s)\n\n", base75.offered)
		cpuTable(out, baseCPU)
	}
	if err := plotCheckout(*outDir, steps, baseSteps); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "report and plots in %s\n", *outDir)
	return nil
}

// kneeAnd75 finds the knee, then offers 75% of it, measuring the CPU time
// the processes in pids spend per completed unit meanwhile and their
// memory at its end.
func kneeAnd75(rates []float64, d time.Duration, w workload, pids map[string]int, progress func(checkoutStep)) ([]checkoutStep, *checkoutStep, []cpuShare, map[string]memory) {
	steps := knee(rates, d, w, progress)
	k := kneeOf(steps)
	if k == 0 {
		return steps, nil, nil, nil
	}
	before := cpuTimes(pids)
	var mem map[string]memory
	st := offer(0.75*k, d, func(i int, r *rand.Rand, sent time.Time) (bool, string, time.Time) {
		if i == int(0.75*k*d.Seconds())-1 {
			mem = memoryOf(pids) // the last arrival: the system is as loaded as it gets
		}
		return w(i, r, sent)
	})
	shares := cpuPerUnit(before, cpuTimes(pids), st.completed())
	progress(st)
	return steps, &st, shares, mem
}

// processes are a run's processes by name, with the machine's Redis and
// this load generator.
func processes(topo *runner.Run) map[string]int {
	pids := topo.PIDs()
	if pid, ok := redisPID(); ok {
		pids["redis (the machine's)"] = pid
	}
	pids["bench (load generator)"] = os.Getpid()
	return pids
}

// kneeOf is the last rate that kept up.
func kneeOf(steps []checkoutStep) float64 {
	k := 0.0
	for _, st := range steps {
		if st.keptUp() {
			k = st.offered
		}
	}
	return k
}

func kneeTable(out io.Writer, steps []checkoutStep, at75 *checkoutStep) {
	fmt.Fprintln(out, "| offered /s | placed | finished | cancelled or failed | completed /s | sent → final p50 | p99 | max | kept up |")
	fmt.Fprintln(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	row := func(st checkoutStep, note string) {
		fmt.Fprintf(out, "| %s | %d | %d | %d | %.1f | %s | %s | %s | %s |\n", note, st.placed, st.shipped, st.cancelled,
			st.throughput(), ms(st.pct(50)), ms(st.pct(99)), ms(st.pct(100)), yesNo(st.keptUp()))
	}
	for _, st := range steps {
		row(st, fmt.Sprintf("%g", st.offered))
	}
	if at75 != nil {
		row(*at75, fmt.Sprintf("%g (75%% of the knee)", at75.offered))
	}
	fmt.Fprintf(out, "\nKnee: %g/s (the last rate completed at 90%% or more with p99 under 1 s).\n", kneeOf(steps))
}
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func parseRates(list string) ([]float64, error) {
	var rates []float64
	for _, f := range strings.Split(list, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("-rates: %q is not a positive number", f)
		}
		rates = append(rates, r)
	}
	return rates, nil
}

type scenario struct {
	name, path string
	url        func(*rand.Rand) string
	header     http.Header
	setup      func() error // before the scenario's warm-up
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

// readAll reads products demo-00001 to demo-<n> once each under base, with
// c clients.
func readAll(client *http.Client, base string, n, c int) error {
	ids := make(chan int)
	errs := make(chan error, c)
	for range c {
		go func() {
			var first error
			for i := range ids {
				resp, err := client.Get(fmt.Sprintf("%sdemo-%05d", base, i))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil && first == nil {
					first = err
				}
			}
			errs <- first
		}()
	}
	for i := 1; i <= n; i++ {
		ids <- i
	}
	close(ids)
	var err error
	for range c {
		err = errors.Join(err, <-errs)
	}
	return err
}
