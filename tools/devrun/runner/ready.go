package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// check is a readiness probe: url must answer 2xx (and, if set, a body
// that accept takes).
type check struct {
	name, url string
	accept    func(body []byte) bool
}

// shortClient is for readiness probes: a probe that hangs is a failed probe.
var shortClient = &http.Client{Timeout: time.Second}

// waitReady polls every stand-in, the control plane, every sidecar's
// /v1.0/healthz and every app's /readyz, printing what it still waits for.
func (r *Run) waitReady(ctx context.Context, timeout time.Duration) error {
	var checks []check
	if r.cp != nil {
		checks = append(checks, r.controlPlaneChecks()...)
	}
	for _, a := range r.apps {
		checks = append(checks, r.appChecks(a)...)
	}
	// With Consul, an app is reachable once its health checks have passed
	// (profiles/consul/configuration.yaml: every second).
	if r.profile.resolver() == "consul" {
		addr := envValue(r.sidecarEnv, "CONSUL_HTTP_ADDR")
		if addr == "" {
			addr = "127.0.0.1:8500"
		}
		for _, a := range r.apps {
			checks = append(checks, check{a.AppID + " in consul", "http://" + addr + "/v1/health/service/" + a.AppID + "?passing=true",
				func(b []byte) bool { return len(strings.TrimSpace(string(b))) > 2 }})
		}
	}
	return r.waitFor(ctx, timeout, checks)
}

// waitFor polls checks until all pass, printing what it still waits for.
func (r *Run) waitFor(ctx context.Context, timeout time.Duration, checks []check) error {
	client := shortClient
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	hinted := false
	ready := map[string]bool{}
	for {
		var waiting []string
		for _, c := range checks {
			if ready[c.name] {
				continue
			}
			if why := runCheck(ctx, client, c); why != "" {
				waiting = append(waiting, c.name+" ("+why+")")
				continue
			}
			ready[c.name] = true
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case err := <-r.failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %s (logs: %s)", timeout, strings.Join(waiting, ", "), r.console.logDir)
		}
		if time.Since(lastReport) > 3*time.Second {
			lastReport = time.Now()
			r.console.printf("… waiting for %s\n", strings.Join(waiting, ", "))
			if !hinted && strings.Contains(strings.Join(waiting, ""), "scheduler-watch-hosts") {
				hinted = true
				r.console.printf("  (after a run that was killed rather than stopped, the scheduler waits ~20s for its old leadership lease to expire)\n")
			}
		}
	}
}

func runCheck(ctx context.Context, client *http.Client, c check) string {
	if c.accept == nil {
		return probeHTTP(ctx, client, c.url)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return "not listening yet"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 || !c.accept(b) {
		return "not yet"
	}
	return ""
}

// probeHTTP returns "" when url answers 2xx, or a short reason.
func probeHTTP(ctx context.Context, client *http.Client, url string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return "not listening yet"
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if s := strings.TrimSpace(string(b)); s != "" {
		return resp.Status + ": " + s
	}
	return resp.Status
}

// watch reports the first process that exits while nobody is stopping it.
func (r *Run) watch() {
	for _, t := range r.tiers {
		for _, p := range t {
			go r.watchProcess(p)
		}
	}
}

func (r *Run) watchProcess(p *process) {
	<-p.done
	if p.isStopping() {
		return
	}
	err := fmt.Errorf("%s exited (%v); its last lines:\n%s", p.name, p.err, indent(p.tail.String()))
	select {
	case r.failed <- err:
	default:
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
