package backoff_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/platform/backoff"
)

func TestRetry(t *testing.T) {
	calls := 0
	err := backoff.Retry(context.Background(), "connect", func() error {
		if calls++; calls < 3 {
			return errors.New("refused")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("%v after %d calls", err, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	err = backoff.Retry(ctx, "connect", func() error { return errors.New("refused") })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connect") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("when ctx ends: %v", err)
	}
}
