// Package app holds the product service's use cases: the catalog (listing,
// search, admin writes) and inventory reservations for the checkout saga.
// It depends only on the narrow interfaces below.
package app

import (
	"context"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/outbox"
	"github.com/daprshop/product/domain"
)

// CatalogStore keeps products, their stock and the catalog index in step.
type CatalogStore interface {
	// Create stores a new product with its initial stock and lists it.
	Create(ctx context.Context, p *domain.Product, stock int64) error
	Get(ctx context.Context, id string) (*domain.Product, *domain.Stock, error)
	// Update applies change to the product under its ETag, re-lists it, and
	// returns it with its current stock.
	Update(ctx context.Context, id string, change func(*domain.Product) error) (*domain.Product, *domain.Stock, error)
	Delete(ctx context.Context, id string) (*domain.Product, error)
}

// StockStore changes one product's stock under optimistic concurrency,
// retrying on conflict. change reports whether it changed anything.
type StockStore interface {
	UpdateStock(ctx context.Context, productID string, change func(*domain.Stock) (bool, error)) (before, after domain.Stock, err error)
}

// CatalogReader serves listings from the current catalog snapshot.
type CatalogReader interface {
	Catalog() *domain.Catalog
}

// ReservationStore keeps reservations.
type ReservationStore interface {
	// Insert stores r if its order has none; otherwise it returns the existing one.
	Insert(ctx context.Context, r *domain.Reservation) (existing *domain.Reservation, err error)
	Get(ctx context.Context, orderID string) (*domain.Reservation, error)
	// Update applies change under the reservation's ETag, retrying on conflict.
	Update(ctx context.Context, orderID string, change func(*domain.Reservation) error) (*domain.Reservation, error)
	// GetMany reads the orders' reservations at once; missing ones are absent.
	GetMany(ctx context.Context, orderIDs []string) ([]*domain.Reservation, error)
}

// Products reads the products an order names, in one call; unknown IDs are
// absent from the answer.
type Products interface {
	Products(ctx context.Context, ids []string) (map[string]*domain.Product, error)
}

// StockReader reads many products' stock at once (for the expiry sweep);
// products without a stock record are absent from the answer.
type StockReader interface {
	Stocks(ctx context.Context, productIDs []string) (map[string]*domain.Stock, error)
}

// Announcer writes an event down before the change it reports and
// publishes it once the change committed (package outbox): for changes an
// API request makes, which no one may retry.
type Announcer interface {
	Expect(ctx context.Context, e events.Event) (outbox.Ticket, error)
	Announce(ctx context.Context, t outbox.Ticket, e events.Event)
	// Forget crosses off a ticket whose change was refused (cause).
	Forget(ctx context.Context, t outbox.Ticket, cause error)
}

// EventPublisher publishes domain events.
type EventPublisher interface {
	Publish(ctx context.Context, e events.Event) error
}
