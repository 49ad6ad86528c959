// Package adapters implements the payment service's interfaces: payments in
// a Dapr state store, and the simulated card provider.
package adapters

import (
	"context"
	"hash/fnv"
	"math"
	"sync/atomic"
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
// latency. Unknown methods are declined. Latency and DeclineRate may change
// while serving (live configuration).
type SimulatedProvider struct {
	latency     atomic.Int64  // nanoseconds
	declineRate atomic.Uint64 // math.Float64bits of a fraction in [0, 1]
}

// NewSimulatedProvider answers after latency and declines no good card.
func NewSimulatedProvider(latency time.Duration) *SimulatedProvider {
	p := &SimulatedProvider{}
	p.Set(latency, 0)
	return p
}

// Set changes the latency of every attempt and the fraction of payments
// with an approving card that are declined anyway ("card declined:
// simulated by the decline rate"), from the next attempt on.
func (p *SimulatedProvider) Set(latency time.Duration, declineRate float64) {
	p.latency.Store(int64(latency))
	p.declineRate.Store(math.Float64bits(declineRate))
}

// Charge decides one attempt.
func (p *SimulatedProvider) Charge(ctx context.Context, paymentID, method string, _ domain.Money, attempt int) (app.Outcome, string, error) {
	select {
	case <-ctx.Done():
		return 0, "", ctx.Err()
	case <-time.After(time.Duration(p.latency.Load())):
	}
	if (method == MethodApprove || method == MethodApprove2) && declinedByRate(paymentID, math.Float64frombits(p.declineRate.Load())) {
		return app.Declined, "card declined: simulated by the decline rate", nil
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

// declinedByRate decides from the payment's ID, so every attempt of one
// payment gets the same answer, and a fraction rate of payments is declined.
func declinedByRate(paymentID string, rate float64) bool {
	if rate <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(paymentID))
	return float64(h.Sum64()%10000) < rate*10000
}
