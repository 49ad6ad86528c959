package sidecar

import (
	"context"
	"fmt"
	"time"
)

// SecretGetter is the part of the go-sdk client that reads secrets.
type SecretGetter interface {
	GetSecret(ctx context.Context, storeName, key string, meta map[string]string) (map[string]string, error)
}

// WaitForSecret reads one secret, retrying while the sidecar starts (a service
// may start before its sidecar). It gives up when ctx ends, returning the last error.
func WaitForSecret(ctx context.Context, s SecretGetter, store, name string) (string, error) {
	var last error
	for delay := 100 * time.Millisecond; ; delay = min(delay*2, 2*time.Second) {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := s.GetSecret(callCtx, store, name, nil)
		cancel()
		if err == nil {
			if v, ok := m[name]; ok && v != "" {
				return v, nil
			}
			return "", fmt.Errorf("secret %q in store %q is empty", name, store)
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("secret %q from store %q: %w (last error: %v)", name, store, ctx.Err(), last)
		case <-time.After(delay):
		}
	}
}
