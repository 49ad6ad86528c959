package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daprshop/order/app"
	"github.com/daprshop/order/domain"
)

// services is the other services: configurable outcomes, recorded calls.
type services struct {
	mu                                            sync.Mutex
	userExists                                    bool
	prices                                        map[string]domain.Money
	noStock                                       bool
	decline                                       bool
	unavailable                                   error  // Charge fails with it
	onCharge                                      func() // runs inside Charge, after the charge
	charged                                       bool
	reserves, commits, releases, charges, refunds int
}

func shop() *services {
	return &services{userExists: true, prices: map[string]domain.Money{
		"a": {Amount: 1000, Currency: "EUR"}, "b": {Amount: 250, Currency: "EUR"}}}
}

func (s *services) Exists(context.Context, string) (bool, error) { return s.userExists, nil }

func (s *services) Reserve(_ context.Context, _ string, lines []domain.Line, _ time.Duration) ([]domain.Line, bool, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserves++
	priced := slices.Clone(lines)
	for i, l := range priced {
		p, ok := s.prices[l.ProductID]
		if !ok {
			return nil, false, "no product " + l.ProductID, nil
		}
		priced[i].Name, priced[i].UnitPrice = "Product "+l.ProductID, &p
	}
	if s.noStock {
		return nil, false, "only 0 of product a available", nil
	}
	return priced, true, "", nil
}

func (s *services) Commit(context.Context, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
	return nil
}

func (s *services) Release(context.Context, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releases++
	return nil
}

func (s *services) Charge(_ context.Context, sale app.Sale) (string, bool, string, error) {
	if s.unavailable != nil {
		return "", false, "", s.unavailable
	}
	s.mu.Lock()
	s.charges++
	s.charged = s.charged || !s.decline
	s.mu.Unlock()
	if s.onCharge != nil {
		s.onCharge()
	}
	if s.decline {
		return "pay_" + sale.OrderID, false, "insufficient funds", nil
	}
	return "pay_" + sale.OrderID, true, "", nil
}

func (s *services) Refund(context.Context, string, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.charged {
		return app.ErrNothingToRefund
	}
	s.charged = false
	s.refunds++
	return nil
}

// flow is app.Flow run in the test: every step runs twice, as a durable
// engine may run it after a crash, and its input and answer go through
// JSON as they would through the engine's history.
type flow struct {
	t        *testing.T
	c        *app.Checkout
	failing  map[string]error  // steps that fail for good
	before   map[string]func() // runs before a step
	event    string            // what Wait receives; "" is the time running out
	undoErr  error
	calls    []string
	statuses []string
}

func newFlow(t *testing.T, c *app.Checkout) *flow {
	return &flow{t: t, c: c, failing: map[string]error{}, before: map[string]func(){}}
}

func (f *flow) Do(step string, in, out any) error {
	f.calls = append(f.calls, step)
	if hook := f.before[step]; hook != nil {
		hook()
	}
	if err := f.failing[step]; err != nil {
		return err
	}
	var sale app.Sale
	roundTrip(f.t, in, &sale)
	var answer app.Outcome
	for range 2 {
		var err error
		if answer, err = f.c.Steps()[step](context.Background(), sale); err != nil {
			return err
		}
	}
	roundTrip(f.t, answer, out)
	return nil
}

func (f *flow) Undo(step string, in any) error {
	f.calls = append(f.calls, step)
	if f.undoErr != nil {
		return f.undoErr
	}
	var c app.Compensation
	roundTrip(f.t, in, &c)
	for range 2 {
		if err := f.c.Compensate(context.Background(), c); err != nil {
			return err
		}
	}
	return nil
}

func (f *flow) Wait(event string, _ time.Duration) (string, bool, error) {
	f.calls = append(f.calls, "wait:"+event)
	return f.event, f.event != "", nil
}

func (f *flow) Mark(status string) { f.statuses = append(f.statuses, status) }

func roundTrip(t *testing.T, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// counted records the metrics calls.
type counted struct{ calls []string }

func (m *counted) Placed()                { m.calls = append(m.calls, "placed") }
func (m *counted) Paid()                  { m.calls = append(m.calls, "paid") }
func (m *counted) Shipped(_, _ time.Time) { m.calls = append(m.calls, "shipped") }
func (m *counted) Cancelled(cause string) { m.calls = append(m.calls, "cancelled:"+cause) }

type fixture struct {
	s       *services
	store   *memStore
	pub     *published
	metrics *counted
	flow    *flow
	order   *domain.Order
}

// checkout places an order of 2 a and 1 b and readies a saga for it.
func checkout(t *testing.T, s *services) fixture {
	store, pub, m := newStore(), &published{}, &counted{}
	c := app.NewCheckout(store, s, pub, app.CheckoutConfig{ReservationTTL: time.Minute, Metrics: m})
	o, err := domain.NewOrder("u1", "ann@example.com", "k", []domain.Line{{ProductID: "a", Quantity: 2}, {ProductID: "b", Quantity: 1}}, "tok_visa", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = store.Insert(ctx, o)
	return fixture{s: s, store: store, pub: pub, metrics: m, flow: newFlow(t, c), order: o}
}

func (fx fixture) run(t *testing.T) (string, *domain.Order) {
	t.Helper()
	status, err := fx.flow.c.Run(fx.flow, app.SaleOf(fx.order, app.Origin{}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := fx.store.Get(ctx, fx.order.ID)
	return status, got
}

func TestCheckoutShipsAPaidOrder(t *testing.T) {
	fx := checkout(t, shop())
	status, got := fx.run(t)
	if status != "shipped" || got.Status != domain.StatusShipped || got.Total.Amount != 2250 ||
		got.PaymentID != "pay_"+got.ID || len(got.History) != 4 || got.Lines[0].Name != "Product a" {
		t.Fatalf("%s: %+v", status, got)
	}
	if want := []string{"Reserve", "Pay", "wait:fulfilment", "Ship"}; !slices.Equal(fx.flow.calls, want) {
		t.Errorf("steps %v, want %v", fx.flow.calls, want)
	}
	if !slices.Equal(fx.metrics.calls, []string{"paid", "shipped"}) {
		t.Errorf("metrics counted %v: each transition once, however often a step runs", fx.metrics.calls)
	}
	// Events may repeat when a step runs twice; consumers dedupe by event ID.
	id := got.ID
	if want := []string{"order.created/" + id, "order.created/" + id, "order.paid/" + id, "order.paid/" + id,
		"order.shipped/" + id, "order.shipped/" + id}; !slices.Equal(fx.pub.ids, want) {
		t.Errorf("events %v", fx.pub.ids)
	}
	if fx.s.refunds != 0 || fx.s.releases != 0 {
		t.Errorf("refunds %d, releases %d", fx.s.refunds, fx.s.releases)
	}
}

func TestCheckoutShipsAtOnceOnAnAdminsWord(t *testing.T) {
	fx := checkout(t, shop())
	fx.flow.event = app.EventShip
	if status, got := fx.run(t); status != "shipped" || got.Status != domain.StatusShipped {
		t.Fatalf("%s %+v", status, got)
	}
}

func TestCheckoutRefusalsCompensate(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*services)
		reason string
		cause  string
	}{
		"buyer deleted":   {func(s *services) { s.userExists = false }, "the buyer's account no longer exists", "Reserve"},
		"unknown product": {func(s *services) { delete(s.prices, "b") }, "no product b", "Reserve"},
		"mixed currency": {func(s *services) { s.prices["b"] = domain.Money{Amount: 1, Currency: "USD"} },
			"the order mixes currencies (EUR and USD)", "Reserve"},
		"no stock": {func(s *services) { s.noStock = true }, "only 0 of product a available", "Reserve"},
		"declined": {func(s *services) { s.decline = true }, "payment declined: insufficient funds", "Pay"},
	} {
		t.Run(name, func(t *testing.T) {
			s := shop()
			tc.change(s)
			fx := checkout(t, s)
			status, got := fx.run(t)
			if status != "cancelled" || got.Status != domain.StatusCancelled || got.Reason != tc.reason {
				t.Fatalf("%s: %+v, want reason %q", status, got, tc.reason)
			}
			if s.refunds != 0 || s.releases != 2 || s.commits != 0 {
				t.Errorf("refunds %d, releases %d (compensation ran twice), commits %d", s.refunds, s.releases, s.commits)
			}
			if !slices.Equal(fx.metrics.calls, []string{"cancelled:" + tc.cause}) {
				t.Errorf("metrics counted %v", fx.metrics.calls)
			}
			if !slices.Contains(fx.pub.ids, "order.cancelled/"+got.ID) {
				t.Errorf("no order.cancelled: %v", fx.pub.ids)
			}
		})
	}
}

func TestCheckoutCancelledBeforePaymentChargesNothing(t *testing.T) {
	s := shop()
	fx := checkout(t, s)
	fx.flow.before[app.StepPay] = func() { requestCancel(fx) }
	status, got := fx.run(t)
	if status != "cancelled" || got.Reason != "cancelled on request" || s.charges != 0 || s.releases != 2 {
		t.Fatalf("%s %+v charges %d releases %d", status, got, s.charges, s.releases)
	}
	if !slices.Equal(fx.metrics.calls, []string{"cancelled:requested"}) {
		t.Errorf("metrics counted %v", fx.metrics.calls)
	}
}

func TestCheckoutCancelledWhilePayingRefunds(t *testing.T) {
	s := shop()
	fx := checkout(t, s)
	s.onCharge = func() { requestCancel(fx) }
	status, got := fx.run(t)
	if status != "cancelled" || got.Reason != "cancelled on request" || s.refunds != 1 || s.releases != 2 {
		t.Fatalf("%s %+v refunds %d releases %d", status, got, s.refunds, s.releases)
	}
}

func TestCheckoutCancelledDuringFulfilmentRefundsAndReleases(t *testing.T) {
	s := shop()
	fx := checkout(t, s)
	fx.flow.event = app.EventCancel
	status, got := fx.run(t)
	if status != "cancelled" || got.Status != domain.StatusCancelled || s.refunds != 1 || s.releases != 2 {
		t.Fatalf("%s %+v refunds %d releases %d", status, got, s.refunds, s.releases)
	}
	if !slices.Equal(fx.metrics.calls, []string{"paid", "cancelled:requested"}) {
		t.Errorf("metrics counted %v", fx.metrics.calls)
	}
}

func TestCheckoutStepFailingForGoodCompensates(t *testing.T) {
	for _, step := range []string{app.StepReserve, app.StepPay, app.StepShip} {
		t.Run(step, func(t *testing.T) {
			s := shop()
			fx := checkout(t, s)
			fx.flow.failing[step] = errors.New("sidecar unavailable")
			status, got := fx.run(t)
			if status != "cancelled" || !strings.HasPrefix(got.Reason, step+" failed: sidecar unavailable") {
				t.Fatalf("%s %+v", status, got)
			}
			// Only a charge that happened is refunded (the payment service
			// answers "nothing to refund" for one that did not).
			if wantRefunds := map[string]int{app.StepShip: 1}[step]; s.refunds != wantRefunds {
				t.Errorf("refunds %d, want %d", s.refunds, wantRefunds)
			}
			if !slices.Equal(fx.metrics.calls[len(fx.metrics.calls)-1:], []string{"cancelled:" + step + "-failed"}) {
				t.Errorf("metrics counted %v", fx.metrics.calls)
			}
		})
	}
}

func TestCheckoutCompensationFailingNeedsAnOperator(t *testing.T) {
	s := shop()
	s.decline = true
	fx := checkout(t, s)
	fx.flow.undoErr = errors.New("payment unreachable for half an hour")
	_, err := fx.flow.c.Run(fx.flow, app.SaleOf(fx.order, app.Origin{}))
	if err == nil || !strings.Contains(err.Error(), "operator action needed") {
		t.Fatalf("err = %v", err)
	}
}

func TestTransientFailuresAreErrors(t *testing.T) {
	s := shop()
	fx := checkout(t, s)
	s.unavailable = errors.New("payment: 503")
	sale := app.SaleOf(fx.order, app.Origin{})
	out, err := fx.flow.c.Steps()[app.StepReserve](ctx, sale)
	if err != nil || !out.OK {
		t.Fatal(out, err)
	}
	if _, err := fx.flow.c.Steps()[app.StepPay](ctx, out.Sale); err == nil {
		t.Fatal("a transient failure must be an error, so the workflow retries it")
	}
}

func requestCancel(fx fixture) {
	_, _ = fx.store.Update(ctx, fx.order.ID, func(o *domain.Order) (bool, error) {
		o.CancelRequested = true
		return true, nil
	})
}

// A step whose event could not be published fails, though its change
// stands; its retry finds the change made and announces it.
func TestAStepWhoseEventWasNotPublishedFailsAndItsRetryAnnouncesIt(t *testing.T) {
	fx := checkout(t, shop())
	sale := app.SaleOf(fx.order, app.Origin{})
	ship := fx.flow.c.Steps()[app.StepShip]
	if _, err := fx.flow.c.Steps()[app.StepReserve](ctx, sale); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.flow.c.Steps()[app.StepPay](ctx, sale); err != nil {
		t.Fatal(err)
	}
	fx.pub.down = 1
	if _, err := ship(ctx, sale); err == nil {
		t.Fatal("the step succeeded though its event was not published")
	}
	if got, _ := fx.store.Get(ctx, fx.order.ID); got.Status != domain.StatusShipped {
		t.Fatalf("the change should stand: %s", got.Status)
	}
	if out, err := ship(ctx, sale); err != nil || !out.OK {
		t.Fatalf("retry: %+v %v", out, err)
	}
	if want := "order.shipped/" + fx.order.ID; fx.pub.ids[len(fx.pub.ids)-1] != want {
		t.Errorf("last event %v, want %s", fx.pub.ids, want)
	}
}
