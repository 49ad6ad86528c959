package adapters

import (
	"context"

	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/product/domain"
)

// DaprReservations keeps reservations under reservation|<orderId>.
type DaprReservations struct {
	store *statestore.Store
}

// NewDaprReservations stores reservations in store.
func NewDaprReservations(store *statestore.Store) *DaprReservations {
	return &DaprReservations{store: store}
}

func reservationKey(orderID string) string { return "reservation|" + orderID }

// Insert stores r unless the order has a reservation, which it returns.
func (d *DaprReservations) Insert(ctx context.Context, r *domain.Reservation) (*domain.Reservation, error) {
	existing, err := statestore.InsertOrGet(ctx, d.store, reservationKey(r.OrderID), toReservationRecord(r))
	if existing == nil || err != nil {
		return nil, err
	}
	return existing.reservation(), nil
}

// Get returns the order's reservation.
func (d *DaprReservations) Get(ctx context.Context, orderID string) (*domain.Reservation, error) {
	r, err := statestore.GetOr[reservationRecord](ctx, d.store, reservationKey(orderID), domain.ErrNotFound)
	if err != nil {
		return nil, err
	}
	return r.reservation(), nil
}

// Update changes the reservation under its ETag, retrying on conflict.
func (d *DaprReservations) Update(ctx context.Context, orderID string, change func(*domain.Reservation) error) (*domain.Reservation, error) {
	stored, err := statestore.Update(ctx, d.store, reservationKey(orderID), statestore.RecordRetry, func(rec *reservationRecord, found bool) (bool, error) {
		if !found {
			return false, domain.ErrNotFound
		}
		r := rec.reservation()
		before := *r
		if err := change(r); err != nil {
			return false, err
		}
		*rec = *toReservationRecord(r)
		return r.Status != before.Status || r.Reason != before.Reason, nil
	})
	if err != nil {
		return nil, conflictToDomain(err)
	}
	return stored.reservation(), nil
}

// GetMany reads the orders' reservations in bulk calls.
func (d *DaprReservations) GetMany(ctx context.Context, orderIDs []string) ([]*domain.Reservation, error) {
	keys := make([]string, len(orderIDs))
	for i, id := range orderIDs {
		keys[i] = reservationKey(id)
	}
	records, err := statestore.GetInOrder[reservationRecord](ctx, d.store, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*domain.Reservation, len(records))
	for i, r := range records {
		out[i] = r.reservation()
	}
	return out, nil
}
