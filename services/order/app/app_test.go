package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/daprshop/order/app"
	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/fakeclock"
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

// GetMany answers the orders that exist, as the store adapter does.
func (s *memStore) GetMany(ctx context.Context, ids []string) ([]*domain.Order, error) {
	var out []*domain.Order
	for _, id := range ids {
		if o, err := s.Get(ctx, id); err == nil {
			out = append(out, o)
		}
	}
	return out, nil
}

// startList keeps the StartList in memory, by minute.
type startList struct {
	mu      sync.Mutex
	minutes map[int64][]string
}

func (l *startList) Add(_ context.Context, id string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.minutes == nil {
		l.minutes = map[int64][]string{}
	}
	l.minutes[at.Unix()/60] = append(l.minutes[at.Unix()/60], id)
	return nil
}

func (l *startList) Before(_ context.Context, t time.Time) ([]app.Listed, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []app.Listed
	for m, ids := range l.minutes {
		if m*60 < t.Unix() {
			out = append(out, app.Listed{Minute: m, Ended: (m+1)*60 <= t.Unix(), OrderIDs: slices.Clone(ids)})
		}
	}
	return out, nil
}

func (l *startList) Drop(_ context.Context, minutes []int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range minutes {
		delete(l.minutes, m)
	}
	return nil
}

type workflows struct {
	mu      sync.Mutex
	started map[string]int
	events  []string
}

func (w *workflows) StartCheckout(_ context.Context, s app.Sale, _ bool) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.started[s.OrderID]++
	return w.started[s.OrderID] == 1, nil
}

func (w *workflows) Notify(_ context.Context, id, event string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, id+":"+event)
	return nil
}

type published struct {
	mu   sync.Mutex
	ids  []string
	down int // the next publishes that fail, as with a broker unreachable
}

func (p *published) Publish(_ context.Context, e events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down > 0 {
		p.down--
		return errors.New("broker unreachable")
	}
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
	orders := app.NewOrders(store, &startList{}, wf, pub, nil, nil)
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
	// order.created is the checkout's to announce (its first step), not the request's.
	if len(pub.ids) != 0 || len(store.users["u1"]) != 1 {
		t.Fatalf("events %v, u1 orders %v", pub.ids, store.users["u1"])
	}
}

func TestReadAndList(t *testing.T) {
	orders := app.NewOrders(newStore(), &startList{}, &workflows{started: map[string]int{}}, &published{}, nil, nil)
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
	orders := app.NewOrders(store, &startList{}, wf, &published{}, nil, nil)
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

// A placement that dies between storing the order and starting its
// checkout leaves a pending order with no checkout: the sweep starts it
// once the order is StartGrace old, and announces it, and leaves alone
// what a placement finished or is still finishing.
func TestTheSweepStartsCheckoutsAPlacementLeftUnstarted(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 10, 0, time.UTC)
	clock := fakeclock.New(t0)
	store, starts, wf, pub := newStore(), &startList{}, &workflows{started: map[string]int{}}, &published{}
	orders := app.NewOrders(store, starts, wf, pub, nil, clock.Now)

	placed, _, err := orders.Place(ctx, buyer, order("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	// What a placement that died after the insert leaves behind.
	stranded, _ := domain.NewOrder("u1", "ann@example.com", "k2", order("k2", 1).Lines, "tok_visa", clock.Now())
	if err := starts.Add(ctx, stranded.ID, stranded.CreatedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Insert(ctx, stranded); err != nil {
		t.Fatal(err)
	}
	// One that died before the insert: no order, nothing to start.
	if err := starts.Add(ctx, "never-stored", clock.Now()); err != nil {
		t.Fatal(err)
	}

	if n, err := orders.SweepStarts(ctx); err != nil || n != 0 || wf.started[stranded.ID] != 0 {
		t.Fatalf("within the grace: started %d (%v), stranded started %d times", n, err, wf.started[stranded.ID])
	}
	clock.Advance(app.StartGrace + time.Minute)
	n, err := orders.SweepStarts(ctx)
	if err != nil || n != 1 || wf.started[stranded.ID] != 1 || wf.started[placed.ID] != 2 {
		t.Fatalf("after the grace: started %d (%v), stranded %d, placed %d", n, err, wf.started[stranded.ID], wf.started[placed.ID])
	}
	if n, _ := orders.SweepStarts(ctx); n != 0 || len(starts.minutes) != 0 {
		t.Errorf("a second sweep: started %d, minutes left %v", n, starts.minutes)
	}
}
