package e2e

import (
	"bufio"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
)

// TestReplicasBehindDiscovery runs two product replicas, each beside its own
// sidecar under one app ID, resolved through the run's SQLite name
// resolution: catalog reads through the gateway reach both, and after one
// replica and its sidecar are killed under load the other serves them all.
func TestReplicasBehindDiscovery(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	run := startRun(t, root, nil, nil, map[string]map[string]string{"product": {runner.EnvReplicas: "2"}})
	gw := client{t: t, base: run.AppURL("gateway")}
	served := func(replica string) int {
		t.Helper()
		return productReads(t, run.ReplicaURL(replica))
	}

	t.Run("reads spread across both replicas", func(t *testing.T) {
		before1, before2 := served("product"), served("product-2")
		for i := range 200 {
			if r := gw.do("GET", "/api/products?limit=1", ""); r.status != 200 {
				t.Fatalf("read %d: %d", i, r.status)
			}
		}
		got1, got2 := served("product")-before1, served("product-2")-before2
		t.Logf("200 reads: %d by product, %d by product-2", got1, got2)
		if got1 < 20 || got2 < 20 || got1+got2 != 200 {
			t.Errorf("reads split %d / %d: want both replicas to serve a share of 200", got1, got2)
		}
	})

	t.Run("a killed replica stops receiving calls", func(t *testing.T) {
		type result struct {
			at     time.Duration
			status int
		}
		var mu sync.Mutex
		var results []result
		start := time.Now()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Timeout: 5 * time.Second}
				for {
					select {
					case <-stop:
						return
					default:
					}
					status := 0
					if resp, err := c.Get(gw.base + "/api/products?limit=1"); err == nil {
						status = resp.StatusCode
						resp.Body.Close()
					}
					mu.Lock()
					results = append(results, result{time.Since(start), status})
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
		time.Sleep(time.Second)
		killedAt := time.Since(start)
		if err := run.Kill("product-2"); err != nil {
			t.Fatal(err)
		}
		survivorBefore := served("product")
		time.Sleep(12 * time.Second)
		close(stop)
		wg.Wait()

		failed := map[int]int{} // status → count
		nFailed := 0
		lastFailure := time.Duration(0)
		total := 0
		for _, r := range results {
			if r.at < killedAt {
				if r.status != 200 {
					t.Errorf("a read failed before the kill: %d at %s", r.status, r.at)
				}
				continue
			}
			total++
			if r.status != 200 {
				failed[r.status]++
				nFailed++
				lastFailure = max(lastFailure, r.at-killedAt)
			}
		}
		t.Logf("after the kill: %d reads, %d failed (by status: %v), the last %s after it", total, nFailed, failed, lastFailure.Round(time.Millisecond))
		if lastFailure > 8*time.Second {
			t.Errorf("reads still failed %s after the kill", lastFailure)
		}
		if got := served("product") - survivorBefore; got < total-nFailed-8 {
			t.Errorf("the survivor served %d of %d reads after the kill", got, total)
		}
	})
}

// productReads is how many catalog list requests a product replica has
// answered, from its own /metrics.
func productReads(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "http_requests_total{") && strings.Contains(line, `route="/products"`) && strings.Contains(line, `method="GET"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int(v)
		}
	}
	return n
}
