// Package app holds the product service's use cases: the catalog (listing,
// search, admin writes) and inventory reservations for the checkout saga.
// It depends only on the narrow interfaces below.
package app

import (
	"context"
	"time"

	"github.com/daprshop/platform/events"
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
}

// Products reads the products an order names, in one call; unknown IDs are
// absent from the answer.
type Products interface {
	Products(ctx context.Context, ids []string) (map[string]*domain.Product, error)
}

// ExpiryScheduler arranges for Expire to be called for an order at a time,
// durably (a Dapr job), so a crash mid-reservation still returns the stock.
type ExpiryScheduler interface {
	ScheduleExpiry(ctx context.Context, orderID string, at time.Time) error
	// CancelExpiry drops the order's expiry once its reservation is closed;
	// an expiry that fires anyway finds nothing to do.
	CancelExpiry(ctx context.Context, orderID string) error
}

// EventPublisher publishes domain events.
type EventPublisher interface {
	Publish(ctx context.Context, e events.Event) error
}
