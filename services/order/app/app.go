// Package app holds the order use cases (place, read, cancel, change
// status) and the checkout saga that turns a placed order into a paid,
// shipped one, or into a cancelled one with everything given back.
package app

import (
	"context"
	"time"

	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/events"
)

// Store keeps orders and each user's list of orders.
type Store interface {
	// Insert stores o unless an order with its ID exists, which it returns.
	Insert(ctx context.Context, o *domain.Order) (existing *domain.Order, err error)
	Get(ctx context.Context, id string) (*domain.Order, error)
	// Update applies change under the order's ETag, retrying on conflict;
	// change reports whether it changed anything.
	Update(ctx context.Context, id string, change func(*domain.Order) (bool, error)) (*domain.Order, error)
	// AddToUser records that orderID belongs to userID (idempotent).
	AddToUser(ctx context.Context, userID, orderID string) error
	// UserOrders returns a user's order IDs, newest first.
	UserOrders(ctx context.Context, userID string) ([]string, error)
	GetMany(ctx context.Context, ids []string) ([]*domain.Order, error)
}

// Workflows starts the checkout and sends it events.
type Workflows interface {
	// StartCheckout starts the checkout of a sale's order; starting it again
	// does nothing, even once it has ended. first says that the order was
	// stored just now, so no checkout can exist for it yet. started says
	// whether this call started it.
	StartCheckout(ctx context.Context, s Sale, first bool) (started bool, err error)
	// Notify sends the checkout of orderID an event (EventCancel, EventShip).
	Notify(ctx context.Context, orderID, event string) error
}

// Events a running checkout listens for during fulfilment.
const (
	EventCancel = "cancel"
	EventShip   = "ship"
)

// StartList is where an order is written down before it is stored, so that
// the sweep finds the orders whose checkout a crash left unstarted.
type StartList interface {
	Add(ctx context.Context, orderID string, at time.Time) error
	// Before answers the orders written down in the minutes that began
	// before t, by minute.
	Before(ctx context.Context, t time.Time) ([]Listed, error)
	// Drop forgets minutes whose orders all have their checkout.
	Drop(ctx context.Context, minutes []int64) error
}

// Listed is one minute of the StartList.
type Listed struct {
	Minute   int64 // unix minute
	Ended    bool  // nothing is added to it any more
	OrderIDs []string
}

// EventPublisher publishes domain events.
type EventPublisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// Users, Inventory and Payments are the other services, as the checkout
// needs them.

// Users checks that an account exists.
type Users interface {
	Exists(ctx context.Context, userID string) (bool, error)
}

// Inventory prices and holds, commits and releases stock for an order.
type Inventory interface {
	// Reserve holds the lines' stock and answers them priced from the
	// catalog, or ok=false with a reason when a product or its stock is not
	// there. A repeat answers the first prices.
	Reserve(ctx context.Context, orderID string, lines []domain.Line, ttl time.Duration) (priced []domain.Line, ok bool, reason string, err error)
	Commit(ctx context.Context, orderID string) error
	Release(ctx context.Context, orderID string) error
}

// Payments charges and refunds an order.
type Payments interface {
	// Charge charges the sale's total; ok=false with a reason is a decline.
	Charge(ctx context.Context, s Sale) (paymentID string, ok bool, reason string, err error)
	// Refund refunds all of the order's payment under key; a repeat refunds
	// nothing more, and an order never charged is ErrNothingToRefund.
	Refund(ctx context.Context, orderID, key string) error
}
