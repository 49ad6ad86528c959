package adapters

import (
	"context"
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

// record is a payment as stored. Its JSON names are the stored format:
// changing one needs a migration.
type record struct {
	ID        string         `json:"id"`
	OrderID   string         `json:"orderId"`
	Email     string         `json:"email,omitempty"`
	Amount    moneyRecord    `json:"amount"`
	Method    string         `json:"method"`
	Status    string         `json:"status"`
	Reason    string         `json:"reason,omitempty"`
	Attempts  int            `json:"attempts"`
	Refunds   []refundRecord `json:"refunds,omitempty"`
	Refunded  int64          `json:"refunded"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

type moneyRecord struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type refundRecord struct {
	Key    string    `json:"key"`
	Amount int64     `json:"amount"`
	At     time.Time `json:"at"`
}

func toRecord(p *domain.Payment) *record {
	r := &record{ID: p.ID, OrderID: p.OrderID, Email: p.Email, Amount: moneyRecord(p.Amount), Method: p.Method,
		Status: string(p.Status), Reason: p.Reason, Attempts: p.Attempts, Refunded: p.Refunded,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	for _, f := range p.Refunds {
		r.Refunds = append(r.Refunds, refundRecord(f))
	}
	return r
}

func (r *record) payment() *domain.Payment {
	p := &domain.Payment{ID: r.ID, OrderID: r.OrderID, Email: r.Email, Amount: domain.Money(r.Amount), Method: r.Method,
		Status: domain.Status(r.Status), Reason: r.Reason, Attempts: r.Attempts, Refunded: r.Refunded,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, f := range r.Refunds {
		p.Refunds = append(p.Refunds, domain.Refund(f))
	}
	return p
}

// Insert stores p unless its ID exists, which it returns.
func (d *DaprStore) Insert(ctx context.Context, p *domain.Payment) (*domain.Payment, error) {
	existing, err := statestore.InsertOrGet(ctx, d.store, key(p.ID), toRecord(p))
	if existing == nil || err != nil {
		return nil, err
	}
	return existing.payment(), nil
}

// Get returns a payment.
func (d *DaprStore) Get(ctx context.Context, id string) (*domain.Payment, error) {
	r, err := statestore.GetOr[record](ctx, d.store, key(id), domain.ErrNotFound)
	if err != nil {
		return nil, err
	}
	return r.payment(), nil
}

// Update changes a payment under its ETag, retrying on conflict.
func (d *DaprStore) Update(ctx context.Context, id string, change func(*domain.Payment) (bool, error)) (*domain.Payment, error) {
	r, err := statestore.Update(ctx, d.store, key(id), statestore.RecordRetry, func(r *record, found bool) (bool, error) {
		if !found {
			return false, domain.ErrNotFound
		}
		p := r.payment()
		changed, err := change(p)
		if changed {
			*r = *toRecord(p)
		}
		return changed, err
	})
	if err != nil {
		return nil, err
	}
	return r.payment(), nil
}
