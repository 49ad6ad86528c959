package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/daprshop/payment/domain"
	"github.com/daprshop/platform/statestore"
)

// DaprStore keeps payments under payment|<id>.
type DaprStore struct {
	store *statestore.Store
}

// NewDaprStore stores payments in store.
func NewDaprStore(store *statestore.Store) *DaprStore { return &DaprStore{store: store} }

func key(id string) string { return "payment|" + id }

var retry = statestore.Retry{Attempts: 10, MaxBackoff: 10 * time.Millisecond}

// Insert stores p unless its ID exists, which it returns.
func (d *DaprStore) Insert(ctx context.Context, p *domain.Payment) (*domain.Payment, error) {
	insertErr := d.store.Insert(ctx, key(p.ID), p)
	if insertErr == nil {
		return nil, nil
	}
	var existing domain.Payment
	found, _, err := d.store.Get(ctx, key(p.ID), &existing)
	if err != nil {
		return nil, errors.Join(insertErr, err)
	}
	if !found {
		return nil, fmt.Errorf("store payment %s: %w", p.ID, insertErr)
	}
	return &existing, nil
}

// Get returns a payment.
func (d *DaprStore) Get(ctx context.Context, id string) (*domain.Payment, error) {
	var p domain.Payment
	found, _, err := d.store.Get(ctx, key(id), &p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, domain.ErrNotFound
	}
	return &p, nil
}

// Update changes a payment under its ETag, retrying on conflict.
func (d *DaprStore) Update(ctx context.Context, id string, change func(*domain.Payment) (bool, error)) (*domain.Payment, error) {
	p, err := statestore.Update(ctx, d.store, key(id), retry, func(p *domain.Payment, found bool) (bool, error) {
		if !found {
			return false, domain.ErrNotFound
		}
		return change(p)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}
