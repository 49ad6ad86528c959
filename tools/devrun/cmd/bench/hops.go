package main

import (
	"fmt"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/daprshop/devrun/runner"
)

// hop is one way to make the same cheap call: one product read from the
// product service's in-memory catalog.
type hop struct {
	name   string
	url    string
	header http.Header
}

type hopResult struct {
	hop
	p50, p99 time.Duration
	success  float64
}

// sidecarTax makes the same call straight to the app, through the app's own
// sidecar (one hop: daprd → app) and through the gateway's sidecar (two
// hops: daprd → daprd → app), each at a fixed arrival rate (an open loop:
// a slow answer does not slow the arrivals), the way Dapr's own
// performance tests measure the sidecar's cost.
func sidecarTax(topo *runner.Run, rate int, d time.Duration) ([]hopResult, error) {
	const method = "/products/demo-00001"
	hops := []hop{
		{"direct (no sidecar)", topo.AppURL("product") + method, http.Header{"Dapr-Api-Token": {topo.AppToken("product")}}},
		{"one hop: product's daprd → product", topo.SidecarURL("product") + "/v1.0/invoke/product/method" + method,
			http.Header{"Dapr-Api-Token": {topo.APIToken("product")}}},
		{"two hops: gateway's daprd → product's daprd → product", topo.SidecarURL("gateway") + "/v1.0/invoke/product/method" + method,
			http.Header{"Dapr-Api-Token": {topo.APIToken("gateway")}}},
	}
	var out []hopResult
	for _, h := range hops {
		target := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: h.url, Header: h.header})
		attacker := vegeta.NewAttacker(vegeta.Timeout(5*time.Second), vegeta.KeepAlive(true))
		pace := vegeta.Rate{Freq: rate, Per: time.Second}
		// The first second warms the connections and is not measured.
		measureFrom := time.Now().Add(time.Second)
		var m vegeta.Metrics
		for res := range attacker.Attack(target, pace, d+time.Second, h.name) {
			if res.Timestamp.After(measureFrom) {
				m.Add(res)
			}
		}
		m.Close()
		if m.Requests == 0 || m.Success < 0.999 {
			return nil, fmt.Errorf("%s: only %.1f%% of calls succeeded (%v)", h.name, 100*m.Success, m.Errors)
		}
		out = append(out, hopResult{hop: h, p50: m.Latencies.P50, p99: m.Latencies.P99, success: m.Success})
	}
	return out, nil
}
