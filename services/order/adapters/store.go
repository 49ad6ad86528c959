// Package adapters implements the order service's interfaces: orders in a
// Dapr state store, the other services through service invocation, and the
// checkout as a Dapr Workflow.
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/statestore"
)

// DaprStore keeps orders under order|<id> and each user's order IDs,
// newest first, under user-orders|<userId>.
type DaprStore struct {
	store *statestore.Store
}

// NewDaprStore stores orders in store.
func NewDaprStore(store *statestore.Store) *DaprStore { return &DaprStore{store: store} }

func orderKey(id string) string    { return "order|" + id }
func userKey(userID string) string { return "user-orders|" + userID }

var retry = statestore.Retry{Attempts: 20, MaxBackoff: 10 * time.Millisecond}

// record is an order as stored: with the fields the API does not show.
type record struct {
	domain.Order
	IdempotencyKey string `json:"idempotencyKey"`
	RequestHash    string `json:"requestHash"`
}

func toRecord(o *domain.Order) record {
	return record{Order: *o, IdempotencyKey: o.IdempotencyKey, RequestHash: o.RequestHash}
}

func (r record) order() *domain.Order {
	o := r.Order
	o.IdempotencyKey, o.RequestHash = r.IdempotencyKey, r.RequestHash
	return &o
}

// Insert stores o unless its ID exists, which it returns.
func (d *DaprStore) Insert(ctx context.Context, o *domain.Order) (*domain.Order, error) {
	insertErr := d.store.Insert(ctx, orderKey(o.ID), toRecord(o))
	if insertErr == nil {
		return nil, nil
	}
	existing, err := d.Get(ctx, o.ID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("store order %s: %w", o.ID, insertErr)
	}
	if err != nil {
		return nil, errors.Join(insertErr, err)
	}
	return existing, nil
}

// Get returns an order.
func (d *DaprStore) Get(ctx context.Context, id string) (*domain.Order, error) {
	var r record
	found, _, err := d.store.Get(ctx, orderKey(id), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, domain.ErrNotFound
	}
	return r.order(), nil
}

// Update changes an order under its ETag, retrying on conflict.
func (d *DaprStore) Update(ctx context.Context, id string, change func(*domain.Order) (bool, error)) (*domain.Order, error) {
	r, err := statestore.Update(ctx, d.store, orderKey(id), retry, func(r *record, found bool) (bool, error) {
		if !found {
			return false, domain.ErrNotFound
		}
		o := r.order()
		changed, err := change(o)
		if err != nil || !changed {
			return false, err
		}
		*r = toRecord(o)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return r.order(), nil
}

// AddToUser puts orderID at the front of the user's list, once.
func (d *DaprStore) AddToUser(ctx context.Context, userID, orderID string) error {
	_, err := statestore.Update(ctx, d.store, userKey(userID), retry, func(ids *[]string, _ bool) (bool, error) {
		if slices.Contains(*ids, orderID) {
			return false, nil
		}
		*ids = append([]string{orderID}, *ids...)
		return true, nil
	})
	return err
}

// UserOrders returns the user's order IDs, newest first.
func (d *DaprStore) UserOrders(ctx context.Context, userID string) ([]string, error) {
	var ids []string
	_, _, err := d.store.Get(ctx, userKey(userID), &ids)
	return ids, err
}

// GetMany reads orders in one call to the sidecar, in the order of ids.
func (d *DaprStore) GetMany(ctx context.Context, ids []string) ([]*domain.Order, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = orderKey(id)
	}
	items, err := d.store.GetBulk(ctx, keys)
	if err != nil {
		return nil, err
	}
	byKey := map[string][]byte{}
	for _, it := range items {
		byKey[it.Key] = it.Value
	}
	out := make([]*domain.Order, 0, len(ids))
	for _, k := range keys {
		if v := byKey[k]; v != nil {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, r.order())
		}
	}
	return out, nil
}
