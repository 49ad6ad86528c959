// Package adapters implements the payment service's interfaces: payments in
// a Dapr state store, and the simulated card provider.
package adapters

import (
	"context"
	"time"

	"github.com/daprshop/payment/app"
	"github.com/daprshop/payment/domain"
)

// Test payment methods of the simulated provider (see README, "Payments").
const (
	MethodApprove     = "tok_visa"        // approved
	MethodApprove2    = "tok_mastercard"  // approved
	MethodDecline     = "tok_decline"     // declined: insufficient funds
	MethodTransient   = "tok_transient"   // unavailable on the first two attempts, then approved
	MethodUnavailable = "tok_unavailable" // unavailable on every attempt
)

// SimulatedProvider answers like a card network, by payment method, after a
// configurable latency. Unknown methods are declined.
type SimulatedProvider struct {
	Latency time.Duration
}

// Charge decides one attempt.
func (p SimulatedProvider) Charge(ctx context.Context, _, method string, _ domain.Money, attempt int) (app.Outcome, string, error) {
	select {
	case <-ctx.Done():
		return 0, "", ctx.Err()
	case <-time.After(p.Latency):
	}
	switch method {
	case MethodApprove, MethodApprove2:
		return app.Approved, "", nil
	case MethodDecline:
		return app.Declined, "card declined: insufficient funds", nil
	case MethodTransient:
		if attempt <= 2 {
			return app.Unavailable, "", nil
		}
		return app.Approved, "", nil
	case MethodUnavailable:
		return app.Unavailable, "", nil
	default:
		return app.Declined, "unknown payment method", nil
	}
}
