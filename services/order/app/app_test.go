package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/daprshop/order/app"
	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/identity"
)

// Hand-written fakes of the narrow interfaces.

type memStore struct {
	mu     sync.Mutex
	orders map[string]domain.Order
	users  map[string][]string
}

func newStore() *memStore {
	return &memStore{orders: map[string]domain.Order{}, users: map[string][]string{}}
}

func (s *memStore) Insert(_ context.Context, o *domain.Order) (*domain.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.orders[o.ID]; ok {
		return &cur, nil
	}
	s.orders[o.ID] = *o
	return nil, nil
}

func (s *memStore) Get(_ context.Context, id string) (*domain.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.orders[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &cur, nil
}

func (s *memStore) Update(_ context.Context, id string, change func(*domain.Order) (bool, error)) (*domain.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.orders[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	cur.History = slices.Clone(cur.History)
	changed, err := change(&cur)
	if err != nil {
		return nil, err
	}
	if changed {
		s.orders[id] = cur
	}
	return &cur, nil
}

func (s *memStore) AddToUser(_ context.Context, userID, orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.users[userID], orderID) {
		s.users[userID] = append([]string{orderID}, s.users[userID]...)
	}
	return nil
}

func (s *memStore) UserOrders(_ context.Context, userID string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.users[userID]), nil
}

func (s *memStore) GetMany(ctx context.Context, ids []string) ([]*domain.Order, error) {
	var out []*domain.Order
	for _, id := range ids {
		o, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

type workflows struct {
	mu      sync.Mutex
	started map[string]int
	events  []string
}

func (w *workflows) StartCheckout(_ context.Context, s app.Sale, _ bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.started[s.OrderID]++
	return nil
}

func (w *workflows) Notify(_ context.Context, id, event string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, id+":"+event)
	return nil
}

type published struct {
	mu  sync.Mutex
	ids []string
}

func (p *published) Publish(_ context.Context, e events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, e.ID)
	return nil
}

var (
	ctx   = context.Background()
	buyer = identity.Principal{UserID: "u1", Role: identity.RoleCustomer, Email: "ann@example.com"}
	other = identity.Principal{UserID: "u2", Role: identity.RoleCustomer}
	admin = identity.Principal{UserID: "root", Role: identity.RoleAdmin}
)

func order(key string, qty int64) app.PlaceInput {
	return app.PlaceInput{IdempotencyKey: key, PaymentMethod: "tok_visa",
		Lines: []domain.Line{{ProductID: "a", Quantity: qty}, {ProductID: "b", Quantity: 1}}}
}

func TestPlaceIsIdempotentPerKey(t *testing.T) {
	store, wf, pub := newStore(), &workflows{started: map[string]int{}}, &published{}
	orders := app.NewOrders(store, wf, pub, nil)
	first, replayed, err := orders.Place(ctx, buyer, order("k1", 2))
	if err != nil || replayed || first.UserID != "u1" || first.Email != "ann@example.com" {
		t.Fatalf("%+v %v %v", first, replayed, err)
	}
	again, replayed, err := orders.Place(ctx, buyer, order("k1", 2))
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("retry: %+v %v %v", again, replayed, err)
	}
	if _, _, err := orders.Place(ctx, buyer, order("k1", 3)); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("reused key: %v", err)
	}
	if o, _, _ := orders.Place(ctx, other, order("k1", 2)); o.ID == first.ID {
		t.Fatal("another user's key collided with this one")
	}
	if len(pub.ids) != 2 || len(store.users["u1"]) != 1 {
		t.Fatalf("events %v, u1 orders %v", pub.ids, store.users["u1"])
	}
}

func TestReadAndList(t *testing.T) {
	orders := app.NewOrders(newStore(), &workflows{started: map[string]int{}}, &published{}, nil)
	var ids []string
	for _, k := range []string{"k1", "k2", "k3"} {
		o, _, _ := orders.Place(ctx, buyer, order(k, 1))
		ids = append(ids, o.ID)
	}
	if _, err := orders.Get(ctx, other, ids[0]); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("another user read the order: %v", err)
	}
	if _, err := orders.Get(ctx, admin, ids[0]); err != nil {
		t.Errorf("admin: %v", err)
	}
	if _, err := orders.ListByUser(ctx, other, "u1", 0, ""); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another user listed: %v", err)
	}
	p1, err := orders.ListByUser(ctx, buyer, "u1", 2, "")
	if err != nil || len(p1.Items) != 2 || p1.Items[0].ID != ids[2] || p1.Total != 3 || p1.NextCursor == "" {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, _ := orders.ListByUser(ctx, buyer, "u1", 2, p1.NextCursor)
	if len(p2.Items) != 1 || p2.Items[0].ID != ids[0] || p2.NextCursor != "" {
		t.Fatalf("page 2: %+v", p2)
	}
}

func TestCancelAndStatus(t *testing.T) {
	store, wf := newStore(), &workflows{started: map[string]int{}}
	orders := app.NewOrders(store, wf, &published{}, nil)
	o, _, _ := orders.Place(ctx, buyer, order("k1", 1))
	if _, err := orders.Cancel(ctx, other, o.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("another user cancelled: %v", err)
	}
	c, err := orders.Cancel(ctx, buyer, o.ID)
	if err != nil || !c.CancelRequested || len(wf.events) != 1 {
		t.Fatalf("cancel: %+v %v %v", c, err, wf.events)
	}
	if _, err := orders.SetStatus(ctx, buyer, o.ID, domain.StatusShipped); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("customer set a status: %v", err)
	}
	if _, err := orders.SetStatus(ctx, admin, o.ID, domain.StatusDelivered); !errors.Is(err, domain.ErrTransition) {
		t.Errorf("pending → delivered: %v", err)
	}
}
