package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/product/app"
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

var reservationRetry = statestore.Retry{Attempts: 20, MaxBackoff: 10 * time.Millisecond}

// Insert stores r unless the order has a reservation, which it returns.
func (d *DaprReservations) Insert(ctx context.Context, r *domain.Reservation) (*domain.Reservation, error) {
	insertErr := d.store.Insert(ctx, reservationKey(r.OrderID), r)
	if insertErr == nil {
		return nil, nil
	}
	var existing domain.Reservation
	found, _, err := d.store.Get(ctx, reservationKey(r.OrderID), &existing)
	if err != nil {
		return nil, errors.Join(insertErr, err)
	}
	if !found {
		return nil, fmt.Errorf("store reservation %s: %w", r.OrderID, insertErr)
	}
	return &existing, nil
}

// Get returns the order's reservation.
func (d *DaprReservations) Get(ctx context.Context, orderID string) (*domain.Reservation, error) {
	var r domain.Reservation
	found, _, err := d.store.Get(ctx, reservationKey(orderID), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, domain.ErrNotFound
	}
	return &r, nil
}

// Update changes the reservation under its ETag, retrying on conflict.
func (d *DaprReservations) Update(ctx context.Context, orderID string, change func(*domain.Reservation) error) (*domain.Reservation, error) {
	r, err := statestore.Update(ctx, d.store, reservationKey(orderID), reservationRetry, func(r *domain.Reservation, found bool) (bool, error) {
		if !found {
			return false, domain.ErrNotFound
		}
		before := *r
		if err := change(r); err != nil {
			return false, err
		}
		return r.Status != before.Status || r.Reason != before.Reason, nil
	})
	if err != nil {
		return nil, conflictToDomain(err)
	}
	return &r, nil
}

// jobScheduler is the part of the go-sdk client that schedules jobs.
type jobScheduler interface {
	ScheduleJob(ctx context.Context, job *dapr.Job) error
	DeleteJob(ctx context.Context, name string) error
}

// DaprExpiry schedules reservation expiry as Dapr jobs: durable in the
// scheduler, delivered to this app even after it restarts.
type DaprExpiry struct {
	client jobScheduler
}

// NewDaprExpiry schedules through client.
func NewDaprExpiry(client jobScheduler) *DaprExpiry { return &DaprExpiry{client: client} }

// ScheduleExpiry arranges a call to POST /job/reservation-expiry-<orderID> at at.
func (d *DaprExpiry) ScheduleExpiry(ctx context.Context, orderID string, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	job := dapr.NewJob(app.ExpiryJobPrefix+orderID,
		dapr.WithJobDueTime(at.UTC().Format(time.RFC3339)),
		// If the app is down when the job is due, keep trying for 10 minutes.
		dapr.WithJobConstantFailurePolicyInterval(5*time.Second),
		dapr.WithJobConstantFailurePolicyMaxRetries(120),
	)
	job.Overwrite = true
	return d.client.ScheduleJob(ctx, job)
}

// CancelExpiry deletes the order's expiry job.
func (d *DaprExpiry) CancelExpiry(ctx context.Context, orderID string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return d.client.DeleteJob(ctx, app.ExpiryJobPrefix+orderID)
}
