package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/daprshop/payment/app"
	"github.com/daprshop/payment/domain"
	"github.com/daprshop/platform/events"
)

type memStore struct {
	mu sync.Mutex
	m  map[string]domain.Payment
}

func (s *memStore) Insert(_ context.Context, p *domain.Payment) (*domain.Payment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.m[p.ID]; ok {
		return &cur, nil
	}
	s.m[p.ID] = *p
	return nil, nil
}

func (s *memStore) Get(_ context.Context, id string) (*domain.Payment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.m[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &cur, nil
}

func (s *memStore) Update(_ context.Context, id string, change func(*domain.Payment) (bool, error)) (*domain.Payment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.m[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	cur.Refunds = append([]domain.Refund(nil), cur.Refunds...)
	changed, err := change(&cur)
	if err != nil {
		return nil, err
	}
	if changed {
		s.m[id] = cur
	}
	return &cur, nil
}

// provider answers by method; "flaky" is unavailable until attempt 3.
type provider struct {
	mu    sync.Mutex
	calls int
}

func (p *provider) Charge(_ context.Context, _, method string, _ domain.Money, attempt int) (app.Outcome, string, error) {
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	switch {
	case method == "decline":
		return app.Declined, "no funds", nil
	case method == "flaky" && attempt < 3:
		return app.Unavailable, "", nil
	}
	return app.Approved, "", nil
}

type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorder) Publish(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, e.ID)
	return nil
}

func setup() (*app.Payments, *provider, *recorder) {
	p, r := &provider{}, &recorder{}
	return app.New(&memStore{m: map[string]domain.Payment{}}, p, r), p, r
}

var ctx = context.Background()

func charge(order, method string, amount int64) app.ChargeRequest {
	return app.ChargeRequest{OrderID: order, Email: "a@b.co", Method: method, Amount: domain.Money{Amount: amount, Currency: "EUR"}}
}

func TestChargeOncePerOrder(t *testing.T) {
	ps, prov, rec := setup()
	p, replayed, err := ps.Charge(ctx, charge("o1", "visa", 500))
	if err != nil || replayed || p.Status != domain.StatusSucceeded || p.ID != "pay_o1" {
		t.Fatalf("%+v %v %v", p, replayed, err)
	}
	p, replayed, err = ps.Charge(ctx, charge("o1", "visa", 500))
	if err != nil || !replayed || prov.calls != 1 {
		t.Fatalf("a repeat charged again: calls=%d %v %v", prov.calls, replayed, err)
	}
	if _, _, err := ps.Charge(ctx, charge("o1", "visa", 600)); !errors.Is(err, domain.ErrMismatch) {
		t.Fatalf("other amount under one order: %v", err)
	}
	// The repeat announces again (its first announcement may have been
	// lost); consumers drop the copy by its ID.
	if d := distinct(rec.ids); len(d) != 1 || d[0] != "payment.completed/pay_o1" || len(rec.ids) != 2 {
		t.Fatalf("events %v", rec.ids)
	}
}

func distinct(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

func TestConcurrentChargesDecideOnce(t *testing.T) {
	ps, _, rec := setup()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _, _ = ps.Charge(ctx, charge("o1", "visa", 500)) }()
	}
	wg.Wait()
	p, _ := ps.Get(ctx, "pay_o1")
	if p.Attempts != 1 || len(distinct(rec.ids)) != 1 {
		t.Fatalf("attempts %d, events %v: want one decision", p.Attempts, rec.ids)
	}
}

func TestTransientThenApproved(t *testing.T) {
	ps, _, _ := setup()
	for i := range 2 {
		if _, _, err := ps.Charge(ctx, charge("o1", "flaky", 500)); !errors.Is(err, app.ErrUnavailable) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	p, _, err := ps.Charge(ctx, charge("o1", "flaky", 500))
	if err != nil || p.Status != domain.StatusSucceeded || p.Attempts != 3 {
		t.Fatalf("third attempt: %+v %v", p, err)
	}
}

func TestDeclineAndRefund(t *testing.T) {
	ps, _, rec := setup()
	p, _, err := ps.Charge(ctx, charge("o1", "decline", 500))
	if err != nil || p.Status != domain.StatusDeclined || p.Reason != "no funds" {
		t.Fatalf("%+v %v", p, err)
	}
	if r, err := ps.Refund(ctx, p.ID, "k", 0); err != nil || r.Refunded != 0 || r.Status != domain.StatusDeclined {
		t.Fatalf("refund of a decline: %+v %v (want done, nothing owed)", r, err)
	}
	ok, _, _ := ps.Charge(ctx, charge("o2", "visa", 500))
	for range 3 {
		if p, err := ps.Refund(ctx, ok.ID, "cancel-o2", 0); err != nil || p.Refunded != 500 {
			t.Fatalf("refund: %+v %v", p, err)
		}
	}
	want := []string{"payment.completed/pay_o2", "payment.failed/pay_o1", "payment.refunded/pay_o2/1"}
	if !slices.Equal(distinct(rec.ids), want) {
		t.Fatalf("events %v", rec.ids)
	}
}

// A compensation's refund that overtakes the charge leaves a void record:
// the late charge is refused and the provider is never asked.
func TestARefundBeforeTheChargeVoidsIt(t *testing.T) {
	ps, prov, _ := setup()
	for range 2 {
		p, err := ps.Refund(ctx, "pay_o9", "cancel-o9", 0)
		if err != nil || p.Status != domain.StatusVoided || p.OrderID != "o9" || p.Refunded != 0 {
			t.Fatalf("refund of an order never charged: %+v %v", p, err)
		}
	}
	if _, _, err := ps.Charge(ctx, charge("o9", "visa", 500)); !errors.Is(err, domain.ErrVoided) {
		t.Fatalf("late charge: %v", err)
	}
	if prov.calls != 0 {
		t.Fatalf("the provider was asked %d times", prov.calls)
	}
	if _, err := ps.Refund(ctx, "not-a-payment-id", "k", 0); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("refund of an ID outside the naming rule: %v", err)
	}
}
