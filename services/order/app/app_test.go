package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

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

func (w *workflows) StartCheckout(_ context.Context, id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.started[id]++
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

// services is the other services: configurable outcomes, recorded calls.
type services struct {
	mu                                   sync.Mutex
	userExists                           bool
	prices                               map[string]app.Price
	noStock                              bool
	decline                              bool
	unavailable                          error
	reserved, commits, releases, refunds int
}

func (s *services) Exists(context.Context, string) (bool, error) { return s.userExists, nil }
func (s *services) Price(_ context.Context, id string) (app.Price, bool, error) {
	p, ok := s.prices[id]
	return p, ok, nil
}
func (s *services) Reserve(context.Context, string, []domain.Line, time.Duration) (bool, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noStock {
		return false, "only 0 of product a available", nil
	}
	s.reserved++
	return true, "", nil
}
func (s *services) Commit(context.Context, string) error {
	s.mu.Lock()
	s.commits++
	s.mu.Unlock()
	return nil
}
func (s *services) Release(context.Context, string) error {
	s.mu.Lock()
	s.releases++
	s.mu.Unlock()
	return nil
}
func (s *services) Charge(_ context.Context, o *domain.Order) (string, bool, string, error) {
	if s.unavailable != nil {
		return "", false, "", s.unavailable
	}
	if s.decline {
		return "pay_" + o.ID, false, "insufficient funds", nil
	}
	return "pay_" + o.ID, true, "", nil
}
func (s *services) Refund(context.Context, string, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decline {
		return app.ErrNothingToRefund
	}
	s.refunds++
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

func newCheckout(s *services) (*app.Checkout, *memStore, *published) {
	c, store, pub, _ := newCountedCheckout(s)
	return c, store, pub
}

// counted records the metrics calls.
type counted struct{ calls []string }

func (m *counted) Placed()                { m.calls = append(m.calls, "placed") }
func (m *counted) Paid()                  { m.calls = append(m.calls, "paid") }
func (m *counted) Shipped(_, _ time.Time) { m.calls = append(m.calls, "shipped") }
func (m *counted) Cancelled(cause string) { m.calls = append(m.calls, "cancelled:"+cause) }

func newCountedCheckout(s *services) (*app.Checkout, *memStore, *published, *counted) {
	store, pub, m := newStore(), &published{}, &counted{}
	return app.NewCheckout(store, s, s, s, s, pub, app.CheckoutConfig{ReservationTTL: time.Minute, Metrics: m}), store, pub, m
}

func place(t *testing.T, store *memStore) *domain.Order {
	t.Helper()
	o, err := domain.NewOrder("u1", "ann@example.com", "k", []domain.Line{{ProductID: "a", Quantity: 2}, {ProductID: "b", Quantity: 1}}, "tok_visa", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = store.Insert(ctx, o)
	return o
}

func run(t *testing.T, c *app.Checkout, id string, steps ...string) app.Step {
	t.Helper()
	acts := c.Activities()
	var last app.Step
	for _, s := range steps {
		// Each activity may run more than once: run every one twice.
		for range 2 {
			st, err := acts[s](ctx, id)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			last = st
			if !st.OK {
				return st
			}
		}
	}
	return last
}

var happy = []string{app.ActValidateBuyer, app.ActPrice, app.ActReserve, app.ActCharge, app.ActCommit, app.ActMarkPaid, app.ActShip}

func TestCheckoutStepsAreIdempotent(t *testing.T) {
	s := &services{userExists: true, prices: map[string]app.Price{
		"a": {Name: "Lamp", Price: domain.Money{Amount: 1000, Currency: "EUR"}},
		"b": {Name: "Mug", Price: domain.Money{Amount: 250, Currency: "EUR"}}}}
	c, store, pub, metrics := newCountedCheckout(s)
	o := place(t, store)
	if st := run(t, c, o.ID, happy...); !st.OK {
		t.Fatalf("happy path stopped: %s", st.Reason)
	}
	if !slices.Equal(metrics.calls, []string{"paid", "shipped"}) {
		t.Errorf("metrics counted %v: each transition once, however often a step runs", metrics.calls)
	}
	got, _ := store.Get(ctx, o.ID)
	if got.Status != domain.StatusShipped || got.Total.Amount != 2250 || got.PaymentID != "pay_"+o.ID || len(got.History) != 4 {
		t.Fatalf("order %+v", got)
	}
	// Events may repeat when a step runs twice; consumers dedupe by event ID.
	want := []string{"order.paid/" + o.ID, "order.paid/" + o.ID, "order.shipped/" + o.ID, "order.shipped/" + o.ID}
	if !slices.Equal(pub.ids, want) {
		t.Errorf("events %v", pub.ids)
	}
}

func TestCheckoutStopsForGood(t *testing.T) {
	price := map[string]app.Price{"a": {Price: domain.Money{Amount: 1, Currency: "EUR"}}, "b": {Price: domain.Money{Amount: 1, Currency: "EUR"}}}
	for name, tc := range map[string]struct {
		s      *services
		reason string
	}{
		"buyer deleted":   {&services{prices: price}, "the buyer's account no longer exists"},
		"unknown product": {&services{userExists: true, prices: map[string]app.Price{"a": price["a"]}}, "product b does not exist"},
		"mixed currency": {&services{userExists: true, prices: map[string]app.Price{"a": price["a"],
			"b": {Price: domain.Money{Amount: 1, Currency: "USD"}}}}, "the order mixes currencies (EUR and USD)"},
		"no stock": {&services{userExists: true, prices: price, noStock: true}, "only 0 of product a available"},
		"declined": {&services{userExists: true, prices: price, decline: true}, "payment declined: insufficient funds"},
	} {
		t.Run(name, func(t *testing.T) {
			c, store, pub, metrics := newCountedCheckout(tc.s)
			o := place(t, store)
			st := run(t, c, o.ID, happy...)
			if st.OK || st.Reason != tc.reason {
				t.Fatalf("stopped with %q, want %q", st.Reason, tc.reason)
			}
			for range 2 { // compensation may run more than once too
				if err := c.Compensate(ctx, app.Compensation{OrderID: o.ID, Reason: st.Reason, Cause: "some-step"}); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(metrics.calls, []string{"cancelled:some-step"}) {
				t.Errorf("metrics counted %v", metrics.calls)
			}
			got, _ := store.Get(ctx, o.ID)
			if got.Status != domain.StatusCancelled || got.Reason != tc.reason || tc.s.refunds != 0 || tc.s.releases != 2 {
				t.Fatalf("after compensation: %+v, refunds %d, releases %d", got, tc.s.refunds, tc.s.releases)
			}
			if n := slices.Index(pub.ids, "order.cancelled/"+o.ID); n < 0 {
				t.Errorf("no order.cancelled: %v", pub.ids)
			}
		})
	}
}

func TestCancellationAfterPaymentRefundsAndReleases(t *testing.T) {
	s := &services{userExists: true, prices: map[string]app.Price{
		"a": {Price: domain.Money{Amount: 1, Currency: "EUR"}}, "b": {Price: domain.Money{Amount: 1, Currency: "EUR"}}}}
	c, store, _ := newCheckout(s)
	o := place(t, store)
	run(t, c, o.ID, app.ActValidateBuyer, app.ActPrice, app.ActReserve, app.ActCharge, app.ActCommit)
	_, _ = store.Update(ctx, o.ID, func(o *domain.Order) (bool, error) { o.CancelRequested = true; return true, nil })
	st := run(t, c, o.ID, app.ActMarkPaid)
	if st.OK || st.Reason != "cancelled on request" {
		t.Fatalf("mark paid after a cancellation: %+v", st)
	}
	if err := c.Compensate(ctx, app.Compensation{OrderID: o.ID, Reason: st.Reason}); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Get(ctx, o.ID)
	if got.Status != domain.StatusCancelled || s.refunds != 1 || s.releases != 1 {
		t.Fatalf("%+v refunds %d releases %d", got, s.refunds, s.releases)
	}
}

func TestTransientFailuresAreErrors(t *testing.T) {
	s := &services{userExists: true, unavailable: errors.New("payment: 503"), prices: map[string]app.Price{
		"a": {Price: domain.Money{Amount: 1, Currency: "EUR"}}, "b": {Price: domain.Money{Amount: 1, Currency: "EUR"}}}}
	c, store, _ := newCheckout(s)
	o := place(t, store)
	run(t, c, o.ID, app.ActValidateBuyer, app.ActPrice, app.ActReserve)
	if _, err := c.Activities()[app.ActCharge](ctx, o.ID); err == nil {
		t.Fatal("a transient failure must be an error, so the workflow retries it")
	}
}

func TestCheckoutInputReadsTheOldBareOrderID(t *testing.T) {
	var in app.CheckoutInput
	if err := json.Unmarshal([]byte(`"o-1"`), &in); err != nil || in.OrderID != "o-1" || in.RequestID != "" {
		t.Fatalf("bare ID: %+v %v", in, err)
	}
	if err := json.Unmarshal([]byte(`{"orderId":"o-2","requestId":"r","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}`), &in); err != nil ||
		in.OrderID != "o-2" || in.RequestID != "r" || in.TraceParent == "" {
		t.Fatalf("object: %+v %v", in, err)
	}
}
