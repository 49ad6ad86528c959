package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
)

// TestReplicasBehindDiscovery runs two product replicas, each beside its own
// sidecar under one app ID, resolved through a SQLite file, through mDNS
// (the resolver `make run` uses) and through Consul: catalog reads through
// the gateway reach both; while a replica's app stops answering (SIGSTOP:
// its sidecar lives on, and it fails its health checks) and then after a
// replica is killed with its sidecar, the other serves the reads, and the
// reads that fail stay within what the resolver allows (allowedFailures).
func TestReplicasBehindDiscovery(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology")
	}
	root := daprtest.RepoRoot(t)
	for _, resolver := range []string{"sqlite", "mdns", "consul"} {
		t.Run(resolver, func(t *testing.T) {
			run := startRunWith(t, root, func(o *runner.Options) {
				o.MDNS = resolver == "mdns"
				if resolver == "consul" {
					o.Profiles = []string{"consul"}
				}
				o.Env["product"] = map[string]string{runner.EnvReplicas: "2"}
				// Every read must reach a replica: no edge cache.
				o.Env["gateway"]["CATALOG_CACHE_TTL"] = "0s"
			})
			replicasSuite(t, run, resolver)
		})
	}
}

func replicasSuite(t *testing.T, run *runner.Run, resolver string) {
	gw := client{t: t, base: run.AppURL("gateway")}
	served := func(replica string) int {
		t.Helper()
		return productReads(t, run.AppURL(replica))
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

	t.Run("a replica failing its health checks stops receiving calls", func(t *testing.T) {
		load := startReads(gw.base)
		time.Sleep(time.Second)
		pausedAt := load.mark()
		if err := run.Pause("product-2"); err != nil {
			t.Fatal(err)
		}
		// Its sidecar calls it unhealthy after 3 missed probes, 1 s apart
		// with 1 s each, and reads it holds meanwhile end at the 3 s timeout.
		time.Sleep(10 * time.Second)
		survivorBefore := served("product")
		settledAt := load.mark()
		time.Sleep(6 * time.Second)
		survivorServed := served("product") - survivorBefore
		resumedAt := load.mark()
		if err := run.Resume("product-2"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(4 * time.Second)
		back := served("product-2")
		time.Sleep(2 * time.Second)
		results := load.stop()
		t.Logf("paused: %s", summarize(results, pausedAt, settledAt))
		settled := summarize(results, settledAt, resumedAt)
		t.Logf("from 10 s after the pause: %s; the survivor served %d", settled, survivorServed)
		t.Logf("resumed: %s", summarize(results, resumedAt, time.Hour))
		if settled.failed > allowedFailures(resolver, settled.total) {
			t.Errorf("%d of %d reads failed once the replica's health checks had failed (%s allows %d)",
				settled.failed, settled.total, resolver, allowedFailures(resolver, settled.total))
		}
		if survivorServed < settled.total-settled.failed-8 {
			t.Errorf("the survivor served %d of %d reads", survivorServed, settled.total)
		}
		if after := summarize(results, resumedAt+3*time.Second, time.Hour); after.failed != 0 {
			t.Errorf("reads failed after the app came back: %s", after)
		}
		if served("product-2") == back {
			t.Errorf("the resumed replica served nothing from 4 s to 6 s after it came back")
		}
	})

	t.Run("a killed replica stops receiving calls", func(t *testing.T) {
		load := startReads(gw.base)
		time.Sleep(time.Second)
		killedAt := load.mark()
		if err := run.Kill("product-2"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		survivorBefore := served("product")
		settledAt := load.mark()
		time.Sleep(5 * time.Second)
		survivorServed := served("product") - survivorBefore
		results := load.stop()
		if before := summarize(results, 0, killedAt); before.failed != 0 {
			t.Errorf("reads failed before the kill: %s", before)
		}
		t.Logf("in the 3 s after the kill: %s", summarize(results, killedAt, settledAt))
		// mDNS keeps the dead address for up to 60 s and SQLite until a
		// heartbeat is missed (5 s); Consul drops it at its next check.
		settled := summarize(results, settledAt, time.Hour)
		t.Logf("from 3 s after the kill: %s; the survivor served %d", settled, survivorServed)
		if settled.failed > allowedFailures(resolver, settled.total) {
			t.Errorf("%d of %d reads failed from 3 s after the kill (%s allows %d)",
				settled.failed, settled.total, resolver, allowedFailures(resolver, settled.total))
		}
		if survivorServed < settled.total-settled.failed-20 {
			t.Errorf("the survivor served %d of %d reads", survivorServed, settled.total)
		}
	})
}

// allowedFailures is how many of n reads may fail while one of two replicas
// is down. Consul drops a replica whose checks fail: none. SQLite picks a
// replica at random and mDNS takes turns among the goroutines of every
// caller, and neither knows health, so the gateway's 6 offers of a read all
// land on the bad replica 1 time in 64; allow 1 in 16.
func allowedFailures(resolver string, n int) int {
	if resolver == "consul" {
		return 0
	}
	return n / 16
}

// reads is a steady load of catalog reads through the gateway from 4
// clients, each outcome stamped with its time since the start.
type reads struct {
	start   time.Time
	stopped chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	results []readResult
}

type readResult struct {
	at     time.Duration
	status int
	detail string // a failure's body
}

func startReads(base string) *reads {
	l := &reads{start: time.Now(), stopped: make(chan struct{})}
	for range 4 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			c := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-l.stopped:
					return
				default:
				}
				status, detail := 0, ""
				if resp, err := c.Get(base + "/api/products?limit=1"); err == nil {
					status = resp.StatusCode
					if status != 200 {
						b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
						detail = string(b)
					}
					resp.Body.Close()
				} else {
					detail = err.Error()
				}
				l.mu.Lock()
				l.results = append(l.results, readResult{time.Since(l.start), status, detail})
				l.mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *reads) mark() time.Duration { return time.Since(l.start) }

func (l *reads) stop() []readResult {
	close(l.stopped)
	l.wg.Wait()
	return l.results
}

type readSummary struct {
	total, failed int
	byStatus      map[int]int
	lastFailure   time.Duration  // after the window's start
	bodies        map[string]int // failures' bodies, addresses and IDs masked
}

func (s readSummary) String() string {
	out := fmt.Sprintf("%d reads, %d failed %v, the last %s in", s.total, s.failed, s.byStatus, s.lastFailure.Round(time.Millisecond))
	for body, n := range s.bodies {
		out += fmt.Sprintf("\n\t%d× %s", n, body)
	}
	return out
}

// masked are the parts of failure bodies that differ between requests.
var masked = regexp.MustCompile(`[0-9a-f]{32}|127\.0\.0\.1:[0-9]+`)

// summarize counts the reads that started in [from, to).
func summarize(results []readResult, from, to time.Duration) readSummary {
	s := readSummary{byStatus: map[int]int{}, bodies: map[string]int{}}
	for _, r := range results {
		if r.at < from || r.at >= to {
			continue
		}
		s.total++
		if r.status != 200 {
			s.failed++
			s.byStatus[r.status]++
			s.bodies[masked.ReplaceAllString(r.detail, "…")]++
			s.lastFailure = max(s.lastFailure, r.at-from)
		}
	}
	return s
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
