// Package backoff retries start-up work that waits on something not up yet
// (the sidecar, the scheduler), with a doubling pause.
package backoff

import (
	"context"
	"fmt"
	"time"
)

// Retry runs do until it succeeds, pausing 100 ms, then twice as long each
// time up to 2 s; when ctx ends first it answers what was being done and
// the last error.
func Retry(ctx context.Context, what string, do func() error) error {
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		err := do()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}
