package app

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/product/domain"
)

// Inventory implements stock reservations for the checkout saga. Every
// operation is idempotent per order ID and safe to retry or to run twice
// at once: stock holds are idempotent per order (domain.Stock), and the
// reservation's status moves only by compare-and-swap.
type Inventory struct {
	products     Products
	stock        InventoryStock
	catalog      CatalogReader
	reservations ReservationStore
	events       EventPublisher
	ttl          time.Duration
	lowStock     atomic.Int64 // may change while serving (SetLowStockThreshold)
	now          func() time.Time
}

// InventoryStock changes one product's stock and reads many at once.
type InventoryStock interface {
	StockStore
	StockReader
}

// InventoryConfig holds the tunables.
type InventoryConfig struct {
	// TTL is how long a reservation holds stock unless committed or released.
	TTL time.Duration
	// LowStockThreshold: inventory.low-stock is published when available stock falls below it.
	LowStockThreshold int64
	Now               func() time.Time
}

// NewInventory returns the inventory use cases.
func NewInventory(products Products, stock InventoryStock, catalog CatalogReader, res ReservationStore, pub EventPublisher, cfg InventoryConfig) *Inventory {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	inv := &Inventory{products: products, stock: stock, catalog: catalog, reservations: res, events: pub, ttl: cfg.TTL, now: cfg.Now}
	inv.lowStock.Store(cfg.LowStockThreshold)
	return inv
}

// SetLowStockThreshold changes the threshold from the next reservation on.
func (inv *Inventory) SetLowStockThreshold(n int64) { inv.lowStock.Store(n) }

// InsufficientStockError names the lines that could not be held.
type InsufficientStockError struct {
	ProductID string
	Reason    string
}

func (e *InsufficientStockError) Error() string { return e.Reason }

// Outcome is the answer to a reservation request. Replayed is true when the
// order already had a reservation and nothing was done.
type Outcome struct {
	Reservation *domain.Reservation
	Replayed    bool
}

// Reserve prices every line of an order from the catalog and holds stock
// for every line, or for none, for ttl (the configured default when 0).
// Repeating it for the same order and lines changes nothing and gives the
// same answer, prices included.
func (inv *Inventory) Reserve(ctx context.Context, orderID string, lines []domain.Line, ttl time.Duration) (Outcome, error) {
	lines, err := domain.NormalizeLines(orderID, lines)
	if err != nil {
		return Outcome{}, err
	}
	if ttl == 0 {
		ttl = inv.ttl
	}
	now := inv.now().UTC()
	lowStock := inv.lowStock.Load() // one threshold for the whole reservation
	r := &domain.Reservation{OrderID: orderID, Lines: lines, Status: domain.StatusPending,
		ExpiresAt: now.Add(ttl), CreatedAt: now, UpdatedAt: now}
	if err := inv.price(ctx, r); err != nil {
		// A repeat of a reservation made before a product went away gets
		// the first answer; otherwise nothing was held and nothing is kept.
		existing, gerr := inv.reservations.Get(ctx, orderID)
		if gerr != nil || !existing.SameLines(lines) {
			return Outcome{}, err
		}
		r = existing
	}
	existing, err := inv.reservations.Insert(ctx, r)
	if err != nil {
		return Outcome{}, err
	}
	if existing != nil {
		if !existing.SameLines(lines) && existing.Status != domain.StatusReleased {
			return Outcome{}, domain.ErrReservationMismatch
		}
		if existing.Status != domain.StatusPending {
			// Announced again: the request that reserved may have died, or
			// failed to publish, after its commit; consumers drop the copy.
			if existing.Status == domain.StatusReserved {
				if err := inv.announce(ctx, events.TopicInventoryReserved, existing, ""); err != nil {
					return Outcome{}, err
				}
			}
			return Outcome{Reservation: existing, Replayed: true}, nil
		}
		// Pending: a concurrent request, or one that crashed mid-way. Holds are
		// idempotent per order, so finishing its work here is safe.
		r = existing
	}
	// Stock is held from here on: should we crash, the reservation stays
	// pending, and a retry resumes it or the expiry sweep releases it.

	var low []domain.Line
	for i, line := range r.Lines {
		before, after, err := inv.stock.UpdateStock(ctx, line.ProductID, func(s *domain.Stock) (bool, error) {
			return s.Hold(orderID, line.Quantity)
		})
		if err != nil {
			reason := err.Error()
			var insufficient *InsufficientStockError
			switch {
			case errors.Is(err, domain.ErrInsufficientStock):
				reason = fmt.Sprintf("only %d of product %s available, %d asked", before.Available, line.ProductID, line.Quantity)
				insufficient = &InsufficientStockError{ProductID: line.ProductID, Reason: reason}
			case errors.Is(err, domain.ErrNotFound):
				reason = "no product " + line.ProductID
				insufficient = &InsufficientStockError{ProductID: line.ProductID, Reason: reason}
			default:
				return Outcome{}, err // transient: the reservation stays pending; a retry resumes it
			}
			if err := inv.releaseLines(ctx, orderID, r.Lines[:i]); err != nil {
				return Outcome{}, err // stays pending: a retry or the expiry job finishes the release
			}
			rejected, uerr := inv.reservations.Update(ctx, orderID, func(r *domain.Reservation) error {
				r.Reject(reason, inv.now())
				return nil
			})
			if uerr != nil {
				return Outcome{}, uerr
			}
			if rejected.Status != domain.StatusRejected {
				return Outcome{Reservation: rejected, Replayed: true}, nil
			}
			return Outcome{Reservation: rejected}, insufficient
		}
		if before.Available >= lowStock && after.Available < lowStock {
			low = append(low, domain.Line{ProductID: line.ProductID, Quantity: after.Available})
		}
	}

	final, err := inv.reservations.Update(ctx, orderID, func(r *domain.Reservation) error {
		r.Advance(domain.StatusPending, domain.StatusReserved, inv.now())
		return nil
	})
	if err != nil {
		return Outcome{}, err
	}
	if final.Status != domain.StatusReserved {
		// Released or expired while we held stock: give back what we took.
		if !final.Open() {
			if err := inv.releaseLines(ctx, orderID, final.Lines); err != nil {
				logging.FromContext(ctx).Error("holds taken by a reservation closed meanwhile were not all released",
					zap.String("order_id", orderID), zap.Error(err))
			}
		}
		return Outcome{Reservation: final, Replayed: true}, nil
	}
	if err := inv.announce(ctx, events.TopicInventoryReserved, final, ""); err != nil {
		return Outcome{}, err
	}
	// A low-stock alert is a hint computed from this call's stock change:
	// a retry does not see the change again, so a lost one is not repeated.
	for _, l := range low {
		_ = events.Announce(ctx, inv.events, events.Event{
			ID:    events.TopicInventoryLowStock + "/" + l.ProductID + "/" + orderID,
			Topic: events.TopicInventoryLowStock, Subject: l.ProductID,
			Data: events.LowStock{ProductID: l.ProductID, Available: l.Quantity, Threshold: lowStock, At: inv.now().UTC()},
		})
	}
	return Outcome{Reservation: final}, nil
}

// price sets the lines' names and prices, reading every product in one call.
func (inv *Inventory) price(ctx context.Context, r *domain.Reservation) error {
	ids := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		ids[i] = l.ProductID
	}
	products, err := inv.products.Products(ctx, ids)
	if err != nil {
		return err
	}
	if missing := r.Price(products); missing != "" {
		return &InsufficientStockError{ProductID: missing, Reason: "no product " + missing}
	}
	return nil
}

// Get returns an order's reservation.
func (inv *Inventory) Get(ctx context.Context, orderID string) (*domain.Reservation, error) {
	return inv.reservations.Get(ctx, orderID)
}

// Release gives an order's stock back: held units return, and so do units
// already committed (a paid order cancelled before shipping). Releasing
// twice, or releasing an order that never reserved (a saga compensating a
// step that did not land), succeeds; the latter leaves a tombstone that
// refuses a late reservation for the order.
func (inv *Inventory) Release(ctx context.Context, orderID string) (*domain.Reservation, error) {
	r, err := inv.reservations.Get(ctx, orderID)
	if err == nil && (r.Status == domain.StatusCommitted || r.Status == domain.StatusReturning) {
		return inv.returnCommitted(ctx, orderID)
	}
	return inv.close(ctx, orderID, domain.StatusReleasing, domain.StatusReleased, "released")
}

// returnCommitted puts a committed order's units back on sale.
func (inv *Inventory) returnCommitted(ctx context.Context, orderID string) (*domain.Reservation, error) {
	r, err := inv.reservations.Update(ctx, orderID, func(r *domain.Reservation) error {
		r.Advance(domain.StatusCommitted, domain.StatusReturning, inv.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.Status == domain.StatusReturned {
		return r, inv.announce(ctx, events.TopicInventoryReleased, r, "returned") // returned meanwhile
	}
	if r.Status != domain.StatusReturning {
		return r, nil
	}
	for _, l := range r.Lines {
		if _, _, err := inv.stock.UpdateStock(ctx, l.ProductID, func(s *domain.Stock) (bool, error) {
			return s.Return(orderID, l.Quantity, inv.now()), nil
		}); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, err // stays returning; a retry resumes
		}
	}
	r, err = inv.reservations.Update(ctx, orderID, func(r *domain.Reservation) error {
		r.Advance(domain.StatusReturning, domain.StatusReturned, inv.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, inv.announce(ctx, events.TopicInventoryReleased, r, "returned")
}

// Expire is Release for a reservation whose time is up; the sweep calls it.
func (inv *Inventory) Expire(ctx context.Context, orderID string) (*domain.Reservation, error) {
	r, err := inv.reservations.Get(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if !r.Open() && r.Status != domain.StatusExpiring {
		return r, nil // committed, released or rejected in time
	}
	return inv.close(ctx, orderID, domain.StatusExpiring, domain.StatusExpired, "expired")
}

func (inv *Inventory) close(ctx context.Context, orderID string, claim, done domain.ReservationStatus, reason string) (*domain.Reservation, error) {
	if claim == domain.StatusReleasing {
		now := inv.now().UTC()
		tombstone := &domain.Reservation{OrderID: orderID, Status: domain.StatusReleased, Reason: "released before any reservation", CreatedAt: now, UpdatedAt: now}
		existing, err := inv.reservations.Insert(ctx, tombstone)
		if err != nil {
			return nil, err
		}
		if existing == nil {
			return tombstone, nil
		}
	}
	r, err := inv.reservations.Update(ctx, orderID, func(r *domain.Reservation) error {
		return r.ClaimClose(claim, inv.now())
	})
	if err != nil {
		return nil, err
	}
	if r.Status == done {
		return r, inv.announce(ctx, events.TopicInventoryReleased, r, reason) // done before: announced again
	}
	if r.Status != claim {
		return r, nil // closed another way (expired, released, rejected): that way announced it
	}
	if err := inv.releaseLines(ctx, orderID, r.Lines); err != nil {
		return nil, err // stays releasing/expiring: a retry resumes
	}
	r, err = inv.reservations.Update(ctx, orderID, func(r *domain.Reservation) error {
		r.Advance(claim, done, inv.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, inv.announce(ctx, events.TopicInventoryReleased, r, reason)
}

// Commit turns an order's holds into sales once it is paid. Committing twice succeeds.
func (inv *Inventory) Commit(ctx context.Context, orderID string) (*domain.Reservation, error) {
	r, err := inv.reservations.Update(ctx, orderID, func(r *domain.Reservation) error {
		return r.ClaimCommit(inv.now())
	})
	if err != nil {
		return nil, err
	}
	if r.Status == domain.StatusCommitted {
		return r, inv.announce(ctx, events.TopicInventoryCommitted, r, "") // committed before: announced again
	}
	for _, l := range r.Lines {
		if _, _, err := inv.stock.UpdateStock(ctx, l.ProductID, func(s *domain.Stock) (bool, error) {
			return s.Commit(orderID), nil
		}); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, err // stays committing; a retry resumes
		}
	}
	r, err = inv.reservations.Update(ctx, orderID, func(r *domain.Reservation) error {
		r.Advance(domain.StatusCommitting, domain.StatusCommitted, inv.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, inv.announce(ctx, events.TopicInventoryCommitted, r, "")
}

// releaseLines gives back the order's holds on lines. On error some holds
// may remain; the caller leaves the reservation open (or releasing) so that
// a retry, or the expiry job, releases them.
func (inv *Inventory) releaseLines(ctx context.Context, orderID string, lines []domain.Line) error {
	var errs []error
	for _, l := range lines {
		if _, _, err := inv.stock.UpdateStock(ctx, l.ProductID, func(s *domain.Stock) (bool, error) {
			return s.Release(orderID), nil
		}); err != nil && !errors.Is(err, domain.ErrNotFound) {
			errs = append(errs, fmt.Errorf("release %s for %s: %w", l.ProductID, orderID, err))
		}
	}
	return errors.Join(errs...)
}

func (inv *Inventory) announce(ctx context.Context, topic string, r *domain.Reservation, reason string) error {
	lines := make([]events.ReservedLine, len(r.Lines))
	for i, l := range r.Lines {
		lines[i] = events.ReservedLine{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	data := events.InventoryReservation{OrderID: r.OrderID, Lines: lines, Reason: reason, At: r.UpdatedAt}
	if topic == events.TopicInventoryReserved {
		data.ExpiresAt = r.ExpiresAt
	}
	return events.Announce(ctx, inv.events, events.Event{
		ID: topic + "/" + r.OrderID, Topic: topic, Subject: r.OrderID, Data: data,
	})
}

// SweepExpired expires every open reservation whose time is up. It finds
// them through the stock they hold: the stock records of every product in
// the catalog are read in bulk, and the reservations of the orders holding
// stock with them; only those past their time are expired. A reservation
// holding no stock has nothing to give back and is left as it is.
//
// One sweep replaces a Dapr job per reservation: at checkout rates that
// job's creation and deletion were about a fifth of the scheduler's work.
func (inv *Inventory) SweepExpired(ctx context.Context) (expired int, err error) {
	stocks, err := inv.stock.Stocks(ctx, inv.catalog.Catalog().IDs())
	if err != nil {
		return 0, err
	}
	holding := map[string]bool{}
	for _, s := range stocks {
		for orderID := range s.Holds {
			holding[orderID] = true
		}
	}
	if len(holding) == 0 {
		return 0, nil
	}
	ids := make([]string, 0, len(holding))
	for id := range holding {
		ids = append(ids, id)
	}
	reservations, err := inv.reservations.GetMany(ctx, ids)
	if err != nil {
		return 0, err
	}
	now := inv.now()
	var errs []error
	for _, r := range reservations {
		if (r.Open() || r.Status == domain.StatusExpiring) && now.After(r.ExpiresAt) {
			if _, err := inv.Expire(ctx, r.OrderID); err != nil {
				errs = append(errs, fmt.Errorf("expire %s: %w", r.OrderID, err))
				continue
			}
			expired++
		}
	}
	return expired, errors.Join(errs...)
}

// SweepJob names the recurring Dapr job whose every run calls SweepExpired.
const SweepJob = "reservation-sweep"

// ExpiryJobPrefix starts the name of the per-reservation expiry jobs of
// earlier versions; such a job still expires its reservation when due.
const ExpiryJobPrefix = "reservation-expiry-"
