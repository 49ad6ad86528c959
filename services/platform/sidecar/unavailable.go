package sidecar

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrUnavailable marks a failure of a building block behind the sidecar
// (a state store, the scheduler) that did not answer: the request may
// succeed if retried shortly. Adapters wrap it; HTTP ports answer 503 with
// Retry-After (httpapi.WriteError).
var ErrUnavailable = errors.New("a building block did not answer")

// Unavailable reports whether err is such a failure: ErrUnavailable, a
// deadline that ran out, or the sidecar answering Unavailable,
// DeadlineExceeded or ResourceExhausted, or an open circuit breaker.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var grpcErr interface{ GRPCStatus() *status.Status }
	if errors.As(err, &grpcErr) {
		switch grpcErr.GRPCStatus().Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
			return true
		}
	}
	return strings.Contains(err.Error(), "circuit breaker is open")
}
