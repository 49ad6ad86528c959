// Package app holds the payment use cases: charge an order once, refund
// without over-refunding, each safe to retry.
package app

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/daprshop/payment/domain"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/paymentapi"
)

// Store keeps payments.
type Store interface {
	// Insert stores p unless a payment with its ID exists, which it returns.
	Insert(ctx context.Context, p *domain.Payment) (existing *domain.Payment, err error)
	Get(ctx context.Context, id string) (*domain.Payment, error)
	// Update applies change under the payment's ETag, retrying on conflict.
	Update(ctx context.Context, id string, change func(*domain.Payment) (bool, error)) (*domain.Payment, error)
}

// Outcome is a provider's answer to one charge attempt. Its zero value is
// no answer, so an outcome never set cannot read as an approval.
type Outcome int

const (
	Approved Outcome = iota + 1
	Declined
	// Unavailable: the provider failed in a way worth retrying.
	Unavailable
)

// Provider charges payment methods. attempt counts from 1 for a payment;
// the payment ID is the idempotency key a real provider takes.
type Provider interface {
	Charge(ctx context.Context, paymentID, method string, amount domain.Money, attempt int) (Outcome, string, error)
}

// EventPublisher publishes domain events.
type EventPublisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// ErrUnavailable means the provider failed transiently; the charge stays
// pending and a retry attempts it again.
var ErrUnavailable = errors.New("the payment provider is unavailable; retry")

// Payments implements the use cases.
type Payments struct {
	store    Store
	provider Provider
	events   EventPublisher
	now      func() time.Time
}

// New returns the use cases.
func New(store Store, provider Provider, pub EventPublisher) *Payments {
	return &Payments{store: store, provider: provider, events: pub, now: time.Now}
}

// ChargeRequest is an order's charge.
type ChargeRequest struct {
	OrderID string
	Email   string
	Amount  domain.Money
	Method  string
}

// Charge charges an order once. A repeated request for the same order and
// charge returns the first result (replayed = true) and charges nothing
// more; one for the same order with another amount or method is refused.
// A pending charge (an earlier attempt hit a transient failure) is attempted
// again.
func (ps *Payments) Charge(ctx context.Context, req ChargeRequest) (p *domain.Payment, replayed bool, err error) {
	p, err = domain.NewPayment(req.OrderID, req.Email, req.Amount, req.Method, ps.now())
	if err != nil {
		return nil, false, err
	}
	existing, err := ps.store.Insert(ctx, p)
	if err != nil {
		return nil, false, err
	}
	if existing != nil {
		if existing.Status == domain.StatusVoided {
			return nil, false, domain.ErrVoided
		}
		if !existing.SameCharge(p) {
			return nil, false, domain.ErrMismatch
		}
		if existing.Status != domain.StatusPending {
			// Announced again: the request that decided may have died, or
			// failed to publish, after its commit; consumers drop the copy.
			return existing, true, ps.announceOutcome(ctx, existing)
		}
		p = existing
	}

	outcome, reason, err := ps.provider.Charge(ctx, p.ID, p.Method, p.Amount, p.Attempts+1)
	if err != nil {
		return nil, false, err
	}
	// The attempt is recorded under the payment's ETag: when two requests
	// race, the first decides and the second reads what it decided.
	decided := false
	p, err = ps.store.Update(ctx, p.ID, func(cur *domain.Payment) (bool, error) {
		decided = false
		if cur.Status != domain.StatusPending {
			return false, nil
		}
		decided = true
		cur.Attempts++
		cur.UpdatedAt = ps.now().UTC()
		switch outcome {
		case Approved:
			cur.Status = domain.StatusSucceeded
		case Declined:
			cur.Status, cur.Reason = domain.StatusDeclined, reason
		}
		return true, nil
	})
	if err != nil {
		return nil, false, err
	}
	if !decided {
		return p, true, ps.announceOutcome(ctx, p) // a concurrent request decided first
	}
	if p.Status == domain.StatusPending {
		return p, false, ErrUnavailable
	}
	return p, false, ps.announceOutcome(ctx, p)
}

// announceOutcome announces a decided charge: completed or failed.
func (ps *Payments) announceOutcome(ctx context.Context, p *domain.Payment) error {
	switch p.Status {
	case domain.StatusSucceeded:
		return ps.announce(ctx, events.TopicPaymentCompleted, events.TopicPaymentCompleted+"/"+p.ID, p)
	case domain.StatusDeclined:
		return ps.announce(ctx, events.TopicPaymentFailed, events.TopicPaymentFailed+"/"+p.ID, p)
	}
	return nil
}

// Get returns a payment.
func (ps *Payments) Get(ctx context.Context, id string) (*domain.Payment, error) {
	return ps.store.Get(ctx, id)
}

// Refund gives back amount (0: all that is left) under key, once per key.
func (ps *Payments) Refund(ctx context.Context, id, key string, amount int64) (*domain.Payment, error) {
	refund := func() (*domain.Payment, error) {
		return ps.store.Update(ctx, id, func(p *domain.Payment) (bool, error) {
			return p.AddRefund(key, amount, ps.now())
		})
	}
	p, err := refund()
	// No payment: leave a void record, so that a charge for the order still
	// on its way is refused instead of taking money for a cancelled order.
	// (Only this rare path reads twice.)
	if orderID, ok := paymentapi.OrderID(id); ok && errors.Is(err, domain.ErrNotFound) {
		if _, err := ps.store.Insert(ctx, domain.Void(orderID, ps.now())); err != nil {
			return nil, err
		}
		p, err = refund()
	}
	if err != nil {
		return nil, err
	}
	// Announced by a repeat too: the request that refunded may have died,
	// or failed to publish, after its commit. Its ID is the refund's place.
	if n := slices.IndexFunc(p.Refunds, func(r domain.Refund) bool { return r.Key == key }); n >= 0 {
		id := events.TopicPaymentRefunded + "/" + p.ID + "/" + strconv.Itoa(n+1)
		if err := ps.announce(ctx, events.TopicPaymentRefunded, id, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (ps *Payments) announce(ctx context.Context, topic, id string, p *domain.Payment) error {
	return events.Announce(ctx, ps.events, events.Event{ID: id, Topic: topic, Subject: p.OrderID, Data: events.PaymentEvent{
		PaymentID: p.ID, OrderID: p.OrderID, Email: p.Email, Amount: events.Money(p.Amount),
		Refunded: events.Money{Amount: p.Refunded, Currency: p.Amount.Currency},
		Status:   string(p.Status), Reason: p.Reason, At: p.UpdatedAt,
	}})
}
