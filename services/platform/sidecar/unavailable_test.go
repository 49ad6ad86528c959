package sidecar_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/daprshop/platform/sidecar"
)

func TestUnavailable(t *testing.T) {
	for err, want := range map[error]bool{
		nil:                                    false,
		errors.New("decode order|1: bad json"): false,
		fmt.Errorf("get k: %w", status.Error(codes.Unavailable, "connection refused")):    true,
		fmt.Errorf("get k: %w", status.Error(codes.DeadlineExceeded, "deadline")):         true,
		fmt.Errorf("save k: %w", status.Error(codes.Aborted, "etag mismatch")):            false,
		fmt.Errorf("save k: %w", status.Error(codes.Internal, "circuit breaker is open")): true,
		fmt.Errorf("call: %w", context.DeadlineExceeded):                                  true,
		fmt.Errorf("store: %w", sidecar.ErrUnavailable):                                   true,
	} {
		if got := sidecar.Unavailable(err); got != want {
			t.Errorf("Unavailable(%v) = %v, want %v", err, got, want)
		}
	}
}
