// Package adapters implements the order service's interfaces: orders in a
// Dapr state store, the other services through service invocation, and the
// checkout as a Dapr Workflow.
package adapters

import (
	"context"
	"slices"
	"time"

	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/statestore"
)

// DaprStore keeps orders under order|<id> and each user's newest order
// IDs, newest first, under user-orders|<userId>.
type DaprStore struct {
	store  *statestore.Store
	listed int
}

// NewDaprStore stores orders in store; a user's list keeps the newest
// listed orders (older ones stay readable by ID, unlisted), so that a list
// read whole to page it stays bounded.
func NewDaprStore(store *statestore.Store, listed int) *DaprStore {
	return &DaprStore{store: store, listed: listed}
}

func orderKey(id string) string    { return "order|" + id }
func userKey(userID string) string { return "user-orders|" + userID }

// record is an order as stored, with the fields the API does not show.
// Its JSON names are the stored format: changing one needs a migration.
type record struct {
	ID              string          `json:"id"`
	UserID          string          `json:"userId"`
	Email           string          `json:"email,omitempty"`
	Lines           []lineRecord    `json:"lines"`
	Total           *moneyJSON      `json:"total,omitempty"`
	PaymentMethod   string          `json:"paymentMethod"`
	PaymentID       string          `json:"paymentId,omitempty"`
	Status          string          `json:"status"`
	Reason          string          `json:"reason,omitempty"`
	CancelRequested bool            `json:"cancelRequested,omitempty"`
	History         []historyRecord `json:"history"`
	IdempotencyKey  string          `json:"idempotencyKey"`
	RequestHash     string          `json:"requestHash"`
	CreatedAt       time.Time       `json:"createdAt"`
	UpdatedAt       time.Time       `json:"updatedAt"`
}

// moneyJSON is money as the adapters write it: in the stored order and in
// calls to the product and payment services alike.
type moneyJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type lineRecord struct {
	ProductID string     `json:"productId"`
	Name      string     `json:"name,omitempty"`
	Quantity  int64      `json:"quantity"`
	UnitPrice *moneyJSON `json:"unitPrice,omitempty"`
}

type historyRecord struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Note   string    `json:"note,omitempty"`
}

func toMoneyJSON(m *domain.Money) *moneyJSON {
	if m == nil {
		return nil
	}
	return &moneyJSON{Amount: m.Amount, Currency: m.Currency}
}

func (m *moneyJSON) money() *domain.Money {
	if m == nil {
		return nil
	}
	return &domain.Money{Amount: m.Amount, Currency: m.Currency}
}

func toRecord(o *domain.Order) record {
	r := record{ID: o.ID, UserID: o.UserID, Email: o.Email, Total: toMoneyJSON(o.Total), PaymentMethod: o.PaymentMethod,
		PaymentID: o.PaymentID, Status: string(o.Status), Reason: o.Reason, CancelRequested: o.CancelRequested,
		IdempotencyKey: o.IdempotencyKey, RequestHash: o.RequestHash, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		Lines: make([]lineRecord, len(o.Lines)), History: make([]historyRecord, len(o.History))}
	for i, l := range o.Lines {
		r.Lines[i] = lineRecord{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, UnitPrice: toMoneyJSON(l.UnitPrice)}
	}
	for i, t := range o.History {
		r.History[i] = historyRecord{Status: string(t.Status), At: t.At, Note: t.Note}
	}
	return r
}

func (r *record) order() *domain.Order {
	o := &domain.Order{ID: r.ID, UserID: r.UserID, Email: r.Email, Total: r.Total.money(), PaymentMethod: r.PaymentMethod,
		PaymentID: r.PaymentID, Status: domain.Status(r.Status), Reason: r.Reason, CancelRequested: r.CancelRequested,
		IdempotencyKey: r.IdempotencyKey, RequestHash: r.RequestHash, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Lines: make([]domain.Line, len(r.Lines)), History: make([]domain.Transition, len(r.History))}
	for i, l := range r.Lines {
		o.Lines[i] = domain.Line{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice.money()}
	}
	for i, t := range r.History {
		o.History[i] = domain.Transition{Status: domain.Status(t.Status), At: t.At, Note: t.Note}
	}
	return o
}

// Insert stores o unless its ID exists, which it returns.
func (d *DaprStore) Insert(ctx context.Context, o *domain.Order) (*domain.Order, error) {
	r := toRecord(o)
	existing, err := statestore.InsertOrGet(ctx, d.store, orderKey(o.ID), &r)
	if existing == nil || err != nil {
		return nil, err
	}
	return existing.order(), nil
}

// Get returns an order.
func (d *DaprStore) Get(ctx context.Context, id string) (*domain.Order, error) {
	r, err := statestore.GetOr[record](ctx, d.store, orderKey(id), domain.ErrNotFound)
	if err != nil {
		return nil, err
	}
	return r.order(), nil
}

// Update changes an order under its ETag, retrying on conflict.
func (d *DaprStore) Update(ctx context.Context, id string, change func(*domain.Order) (bool, error)) (*domain.Order, error) {
	r, err := statestore.Update(ctx, d.store, orderKey(id), statestore.RecordRetry, func(r *record, found bool) (bool, error) {
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

// AddToUser puts orderID at the front of the user's list, once, dropping
// the oldest beyond the newest listed.
func (d *DaprStore) AddToUser(ctx context.Context, userID, orderID string) error {
	_, err := statestore.Update(ctx, d.store, userKey(userID), statestore.RecordRetry, func(ids *[]string, _ bool) (bool, error) {
		if slices.Contains(*ids, orderID) {
			return false, nil
		}
		*ids = append([]string{orderID}, *ids...)
		if len(*ids) > d.listed {
			*ids = (*ids)[:d.listed]
		}
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

// GetMany reads orders in bulk calls, in the order of ids.
func (d *DaprStore) GetMany(ctx context.Context, ids []string) ([]*domain.Order, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = orderKey(id)
	}
	records, err := statestore.GetInOrder[record](ctx, d.store, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*domain.Order, len(records))
	for i, r := range records {
		out[i] = r.order()
	}
	return out, nil
}
