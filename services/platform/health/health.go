// Package health serves /healthz (liveness: the process answers) and /readyz
// (readiness: the sidecar and the service's own dependencies answer).
package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Check reports whether one dependency is usable.
type Check func(ctx context.Context) error

// Checks maps a dependency name to its check.
type Checks map[string]Check

// checkTimeout bounds each readiness check so a hung dependency makes the
// probe fail instead of hang.
const checkTimeout = 2 * time.Second

// Live answers 200 while the process can serve HTTP at all.
func Live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// Ready runs every check concurrently and answers 200 when all pass, 503 with
// the failing checks' errors otherwise.
func Ready(checks Checks) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		type result struct {
			Status string `json:"status"`
			Error  string `json:"error,omitempty"`
		}
		results := make(map[string]result, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for name, check := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
				defer cancel()
				res := result{Status: "ok"}
				if err := check(ctx); err != nil {
					res = result{Status: "fail", Error: err.Error()}
				}
				mu.Lock()
				results[name] = res
				mu.Unlock()
			}()
		}
		wg.Wait()

		status, code := "ok", http.StatusOK
		for _, res := range results {
			if res.Status != "ok" {
				status, code = "fail", http.StatusServiceUnavailable
			}
		}
		writeJSON(w, code, map[string]any{"status": status, "checks": results})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Flag is the readiness check of something done once after start (a
// catalog loaded, a worker connected): it fails with its message until Set.
type Flag struct {
	done   atomic.Bool
	notYet string
}

// NewFlag returns an unset flag whose check fails with notYet.
func NewFlag(notYet string) *Flag { return &Flag{notYet: notYet} }

// Set marks the work done.
func (f *Flag) Set() { f.done.Store(true) }

// Check is the readiness check.
func (f *Flag) Check(context.Context) error {
	if !f.done.Load() {
		return errors.New(f.notYet)
	}
	return nil
}
