package statestore

import (
	"context"
	"errors"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/daprshop/platform/sidecar"
)

// stalling answers GetState with err, counting the calls that reach it.
type stalling struct {
	Client
	err   error
	calls int
}

func (c *stalling) GetState(context.Context, string, string, map[string]string) (*dapr.StateItem, error) {
	c.calls++
	return &dapr.StateItem{}, c.err
}

// After a call the store leaves unanswered, calls fail at once (with
// sidecar.ErrUnavailable, and Ready failing) until the cooldown ends; a
// conflict or a caller's own deadline starts no cooldown.
func TestAStoreThatDoesNotAnswerFailsFast(t *testing.T) {
	ctx := context.Background()
	c := &stalling{err: status.Error(codes.DeadlineExceeded, "context deadline exceeded")}
	s := New(c, "st")
	s.cooldown = 200 * time.Millisecond
	var v any
	if _, _, err := s.Get(ctx, "k", &v); !sidecar.Unavailable(err) || c.calls != 1 {
		t.Fatalf("first call: %v, %d calls", err, c.calls)
	}
	if _, _, err := s.Get(ctx, "k", &v); !errors.Is(err, sidecar.ErrUnavailable) || c.calls != 1 {
		t.Fatalf("during the cooldown: %v, %d calls", err, c.calls)
	}
	if s.Ready(ctx) == nil {
		t.Error("ready during the cooldown")
	}
	time.Sleep(250 * time.Millisecond)
	c.err = nil
	if _, _, err := s.Get(ctx, "k", &v); err != nil || c.calls != 2 || s.Ready(ctx) != nil {
		t.Fatalf("after the cooldown: %v, %d calls, ready %v", err, c.calls, s.Ready(ctx))
	}
	calls := c.calls

	c.err = status.Error(codes.Aborted, "etag mismatch")
	s.Get(ctx, "k", &v)
	c.err = status.Error(codes.Unavailable, "connection refused")
	expired, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	s.Get(expired, "k", &v) // the caller gave up: not the store's fault
	c.err = nil
	if s.Ready(ctx) != nil || c.calls != calls+3 {
		t.Errorf("a conflict or the caller's own deadline started a cooldown (%d calls after %d)", c.calls, calls)
	}
}
