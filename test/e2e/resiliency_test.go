package e2e

import (
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daprshop/platform/daprtest"
)

// TestResiliencyPoliciesAct loads the repository's resiliency policies into
// a real sidecar that calls a scripted "payment" app through another real
// sidecar, and shows each policy acting: a 400 is never retried, a 503 is
// retried exactly maxRetries times, a slow answer is cut at the app's
// timeout, and the payments breaker opens after five failures, then fails
// fast, lets one call through after its timeout and closes on its success.
func TestResiliencyPoliciesAct(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	root := daprtest.RepoRoot(t)
	var mu sync.Mutex
	hits := map[string]int{}
	count := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return hits[path]
	}
	upstream := http.NewServeMux()
	answer := func(path string, status int, delay time.Duration) {
		upstream.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[path]++
			mu.Unlock()
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			w.WriteHeader(status)
		})
	}
	answer("/bad", 400, 0)
	answer("/busy", 503, 0)
	answer("/fail", 500, 0)
	answer("/ok", 200, 0)
	answer("/slow", 200, 20*time.Second)
	// /flaky answers as the test says: fail (500), ok, or ok after a moment.
	var flaky atomic.Value
	flaky.Store("fail")
	upstream.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits["/flaky"]++
		mu.Unlock()
		switch flaky.Load() {
		case "fail":
			w.WriteHeader(500)
		case "slow-ok":
			time.Sleep(300 * time.Millisecond)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: upstream}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// The scripted app answers as "payment" (timeout 5 s, the payments
	// breaker) and as "product" (timeout 3 s) to callers "order" and
	// "gateway", each with the repository's policies.
	appPort := ln.Addr().(*net.TCPAddr).Port
	daprtest.Start(t, daprtest.Options{AppID: "payment", AppPort: appPort, WaitForApp: true})
	daprtest.Start(t, daprtest.Options{AppID: "product", AppPort: appPort, WaitForApp: true})
	policies := []string{filepath.Join(root, "dapr-config", "resiliency")}
	order := daprtest.Start(t, daprtest.Options{AppID: "order", ResourcesDirs: policies})
	gateway := daprtest.Start(t, daprtest.Options{AppID: "gateway", ResourcesDirs: policies})
	invoke := func(caller *daprtest.Sidecar, app, path string) (int, time.Duration) {
		t.Helper()
		start := time.Now()
		req, _ := http.NewRequest("POST", caller.HTTPBase()+"/v1.0/invoke/"+app+"/method"+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	call := func(path string) (int, time.Duration) { t.Helper(); return invoke(order, "payment", path) }

	t.Run("a 400 is never retried", func(t *testing.T) {
		if status, _ := call("/bad"); status != 400 || count("/bad") != 1 {
			t.Errorf("status %d after %d attempts, want 400 after 1", status, count("/bad"))
		}
	})
	t.Run("a 503 is retried maxRetries times", func(t *testing.T) {
		status, took := call("/busy")
		if status != 503 || count("/busy") != 4 {
			t.Errorf("status %d after %d attempts, want 503 after 1 + maxRetries 3", status, count("/busy"))
		}
		t.Logf("4 attempts with exponential back-off took %s", took.Round(time.Millisecond))
		call("/ok") // a success: the breaker's consecutive failures start again
	})
	t.Run("the gateway's sidecar never retries", func(t *testing.T) {
		before := count("/busy")
		if status, _ := invoke(gateway, "payment", "/busy"); status != 503 || count("/busy") != before+1 {
			t.Errorf("status %d after %d attempts, want 503 after 1", status, count("/busy")-before)
		}
	})
	t.Run("a slow answer is cut at the app's timeout, each attempt", func(t *testing.T) {
		status, took := invoke(order, "product", "/slow")
		attempts := count("/slow")
		t.Logf("cut after %s with %d, %d attempt(s)", took.Round(time.Millisecond), status, attempts)
		// Dapr retries an attempt its timeout cut: 1 + maxRetries attempts of 3 s.
		if status < 500 || attempts != 4 || took < 4*3*time.Second || took > 4*3*time.Second+6*time.Second {
			t.Errorf("status %d after %s and %d attempts: want 4 attempts each cut at product's 3 s", status, took, attempts)
		}
		before := count("/slow")
		if status, took := invoke(gateway, "product", "/slow"); status < 500 || took < 3*time.Second || took > 4*time.Second || count("/slow") != before+1 {
			t.Errorf("through the gateway's sidecar: %d after %s, %d attempts: want one cut at 3 s", status, took, count("/slow")-before)
		}
	})
	t.Run("the payments breaker opens, fails fast, half-opens and closes", func(t *testing.T) {
		// Dapr keeps one breaker per app and method path: all of it happens on /flaky.
		for i := 1; i <= 5; i++ {
			if status, _ := call("/flaky"); status != 500 {
				t.Fatalf("failure %d answered %d", i, status)
			}
		}
		flaky.Store("ok")
		status, took := call("/flaky")
		if count("/flaky") != 5 || status < 500 || took > 500*time.Millisecond {
			t.Fatalf("open breaker: the app got %d calls (want 5), answer %d after %s", count("/flaky"), status, took)
		}
		t.Logf("open: refused in %s with %d without reaching the app", took.Round(time.Millisecond), status)
		if status, _ := call("/ok"); status != 200 {
			t.Errorf("another path of the same app is refused too (%d): the breaker is per path", status)
		}

		time.Sleep(10*time.Second + 500*time.Millisecond) // the breaker's timeout: half-open
		flaky.Store("slow-ok")
		var wg sync.WaitGroup
		var passed, refused atomic.Int32
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status, _ := call("/flaky"); status == 200 {
					passed.Add(1)
				} else {
					refused.Add(1)
				}
			}()
		}
		wg.Wait()
		if passed.Load() != 1 || refused.Load() != 1 || count("/flaky") != 6 {
			t.Fatalf("half-open: %d passed, %d refused, the app got %d calls: want one let through", passed.Load(), refused.Load(), count("/flaky")-5)
		}
		flaky.Store("ok")
		for i := range 3 {
			if status, _ := call("/flaky"); status != 200 {
				t.Fatalf("closed after a success: call %d answered %d", i, status)
			}
		}
		if count("/flaky") != 9 {
			t.Errorf("closed: the app got %d calls, want 9", count("/flaky"))
		}
	})
}
