package app_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/fakeclock"
	"github.com/daprshop/product/app"
	"github.com/daprshop/product/domain"
)

// Hand-written fakes of the narrow interfaces.

type memStock struct {
	mu     sync.Mutex
	m      map[string]*domain.Stock
	prices map[string]int64 // every product with stock has a price
}

func (s *memStock) Products(_ context.Context, ids []string) (map[string]*domain.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*domain.Product{}
	for _, id := range ids {
		if _, ok := s.m[id]; ok {
			out[id] = &domain.Product{ID: id, ProductFields: domain.ProductFields{Name: "Product " + id,
				Price: domain.Money{Amount: s.prices[id], Currency: "EUR"}}}
		}
	}
	return out, nil
}

func (s *memStock) UpdateStock(_ context.Context, id string, change func(*domain.Stock) (bool, error)) (domain.Stock, domain.Stock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.m[id]
	if !ok {
		return domain.Stock{}, domain.Stock{}, domain.ErrNotFound
	}
	before := *cur
	before.Holds = maps.Clone(cur.Holds)
	next := *cur
	next.Holds = maps.Clone(cur.Holds)
	if _, err := change(&next); err != nil {
		return before, before, err
	}
	*cur = next
	return before, next, nil
}

func (s *memStock) Stocks(_ context.Context, ids []string) (map[string]*domain.Stock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*domain.Stock{}
	for _, id := range ids {
		if st, ok := s.m[id]; ok {
			c := *st
			c.Holds = maps.Clone(st.Holds)
			out[id] = &c
		}
	}
	return out, nil
}

// Catalog lists every product with stock.
func (s *memStock) Catalog() *domain.Catalog {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sums []domain.Summary
	for id := range s.m {
		sums = append(sums, domain.Summary{ID: id})
	}
	return domain.NewCatalog(sums)
}

func (s *memStock) available(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id].Available
}

type memReservations struct {
	mu sync.Mutex
	m  map[string]domain.Reservation
}

func (r *memReservations) Insert(_ context.Context, res *domain.Reservation) (*domain.Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.m[res.OrderID]; ok {
		return &cur, nil
	}
	r.m[res.OrderID] = *res
	return nil, nil
}

func (r *memReservations) Get(_ context.Context, id string) (*domain.Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, ok := r.m[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &cur, nil
}

func (r *memReservations) GetMany(_ context.Context, ids []string) ([]*domain.Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*domain.Reservation
	for _, id := range ids {
		if cur, ok := r.m[id]; ok {
			out = append(out, &cur)
		}
	}
	return out, nil
}

func (r *memReservations) Update(_ context.Context, id string, change func(*domain.Reservation) error) (*domain.Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, ok := r.m[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	if err := change(&cur); err != nil {
		return nil, err
	}
	r.m[id] = cur
	return &cur, nil
}

type published struct {
	mu  sync.Mutex
	all []events.Event
}

func (p *published) Publish(_ context.Context, e events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = append(p.all, e)
	return nil
}

// topics counts the distinct events per topic: a repeated call announces
// again under the same ID, and consumers drop the copy.
func (p *published) topics() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out, seen := map[string]int{}, map[string]bool{}
	for _, e := range p.all {
		if !seen[e.ID] {
			seen[e.ID] = true
			out[e.Topic]++
		}
	}
	return out
}

type fixture struct {
	inv   *app.Inventory
	stock *memStock
	res   *memReservations
	clock *fakeclock.Clock
	pub   *published
}

func newFixture(stock map[string]int64) fixture {
	f := fixture{
		stock: &memStock{m: map[string]*domain.Stock{}, prices: map[string]int64{}},
		res:   &memReservations{m: map[string]domain.Reservation{}},
		clock: fakeclock.New(time.Now()),
		pub:   &published{},
	}
	for id, n := range stock {
		f.stock.m[id] = &domain.Stock{Available: n}
	}
	f.inv = app.NewInventory(f.stock, f.stock, f.stock, f.res, f.pub, app.InventoryConfig{TTL: time.Minute, LowStockThreshold: 3, Now: f.clock.Now})
	return f
}

var ctx = context.Background()

func TestReserveIsAllOrNothing(t *testing.T) {
	f := newFixture(map[string]int64{"a": 5, "b": 1})
	_, err := f.inv.Reserve(ctx, "o1", []domain.Line{line("a", 2), line("b", 2)}, 0)
	var insufficient *app.InsufficientStockError
	if !errors.As(err, &insufficient) || insufficient.ProductID != "b" {
		t.Fatalf("err = %v", err)
	}
	if f.stock.available("a") != 5 || f.stock.available("b") != 1 {
		t.Fatalf("a partial reservation kept stock: a=%d b=%d", f.stock.available("a"), f.stock.available("b"))
	}
	out, err := f.inv.Reserve(ctx, "o1", []domain.Line{line("a", 2), line("b", 2)}, 0)
	if err != nil || !out.Replayed || out.Reservation.Status != domain.StatusRejected {
		t.Fatalf("replay of a rejected reservation: %+v %v", out, err)
	}
	if _, err := f.inv.Reserve(ctx, "o2", []domain.Line{line("a", 1), line("nope", 1)}, 0); !errors.As(err, &insufficient) {
		t.Fatalf("unknown product: %v", err)
	}
}

func TestReserveIsIdempotentPerOrder(t *testing.T) {
	f := newFixture(map[string]int64{"a": 10})
	first, err := f.inv.Reserve(ctx, "o1", []domain.Line{line("a", 4)}, 0)
	if err != nil || first.Replayed || first.Reservation.Status != domain.StatusReserved {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := f.inv.Reserve(ctx, "o1", []domain.Line{line("a", 4)}, 0)
	if err != nil || !again.Replayed || f.stock.available("a") != 6 {
		t.Fatalf("repeat changed something: %+v %v available=%d", again, err, f.stock.available("a"))
	}
	if _, err := f.inv.Reserve(ctx, "o1", []domain.Line{line("a", 5)}, 0); !errors.Is(err, domain.ErrReservationMismatch) {
		t.Fatalf("other lines under one order: %v", err)
	}
}

func TestReservePricesOnceFromTheCatalog(t *testing.T) {
	f := newFixture(map[string]int64{"a": 10, "b": 10})
	f.stock.prices["a"] = 1250
	first, err := f.inv.Reserve(ctx, "o1", []domain.Line{line("b", 1), line("a", 2)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	a := first.Reservation.Lines[0]
	if a.ProductID != "a" || a.Name != "Product a" || a.UnitPrice == nil || *a.UnitPrice != (domain.Money{Amount: 1250, Currency: "EUR"}) {
		t.Fatalf("line a: %+v", a)
	}
	f.stock.prices["a"] = 9999 // a price change after the reservation
	again, err := f.inv.Reserve(ctx, "o1", []domain.Line{line("a", 2), line("b", 1)}, 0)
	if err != nil || !again.Replayed || again.Reservation.Lines[0].UnitPrice.Amount != 1250 {
		t.Fatalf("a repeat re-priced the order: %+v %v", again.Reservation.Lines, err)
	}
}

func TestConcurrentReservationsNeverOversell(t *testing.T) {
	f := newFixture(map[string]int64{"a": 10})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.inv.Reserve(ctx, "o"+string(rune('A'+i/26))+string(rune('a'+i%26)), []domain.Line{line("a", 1)}, 0); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 10 || f.stock.available("a") != 0 {
		t.Fatalf("%d reservations succeeded, available %d; want 10 and 0", ok, f.stock.available("a"))
	}
}

func TestCommitReleaseAndExpire(t *testing.T) {
	f := newFixture(map[string]int64{"a": 10})
	_, _ = f.inv.Reserve(ctx, "paid", []domain.Line{line("a", 3)}, 0)
	_, _ = f.inv.Reserve(ctx, "cancelled", []domain.Line{line("a", 2)}, 0)
	_, _ = f.inv.Reserve(ctx, "abandoned", []domain.Line{line("a", 1)}, 0)

	if r, err := f.inv.Commit(ctx, "paid"); err != nil || r.Status != domain.StatusCommitted {
		t.Fatalf("commit: %+v %v", r, err)
	}
	if r, err := f.inv.Commit(ctx, "paid"); err != nil || r.Status != domain.StatusCommitted {
		t.Fatalf("second commit: %+v %v", r, err)
	}
	if r, err := f.inv.Expire(ctx, "paid"); err != nil || r.Status != domain.StatusCommitted {
		t.Fatalf("expiry after commit must do nothing: %+v %v", r, err)
	}

	if r, err := f.inv.Release(ctx, "cancelled"); err != nil || r.Status != domain.StatusReleased {
		t.Fatalf("release: %+v %v", r, err)
	}
	if r, err := f.inv.Release(ctx, "cancelled"); err != nil || r.Status != domain.StatusReleased {
		t.Fatalf("second release: %+v %v", r, err)
	}
	if _, err := f.inv.Commit(ctx, "cancelled"); !errors.Is(err, domain.ErrReservationClosed) {
		t.Fatalf("commit after release: %v", err)
	}

	if r, err := f.inv.Expire(ctx, "abandoned"); err != nil || r.Status != domain.StatusExpired {
		t.Fatalf("expire: %+v %v", r, err)
	}
	// 10 - 3 sold; 2 released and 1 expired came back.
	if got := f.stock.available("a"); got != 7 {
		t.Fatalf("available %d, want 7", got)
	}
	if topics := f.pub.topics(); topics[events.TopicInventoryReserved] != 3 || topics[events.TopicInventoryReleased] != 2 ||
		topics[events.TopicInventoryCommitted] != 1 {
		t.Errorf("events %v", topics)
	}

	// A paid order cancelled before shipping: its sold units come back, once.
	for range 2 {
		if r, err := f.inv.Release(ctx, "paid"); err != nil || r.Status != domain.StatusReturned {
			t.Fatalf("release after commit: %+v %v", r, err)
		}
	}
	if got := f.stock.available("a"); got != 10 {
		t.Fatalf("available %d after the return, want 10", got)
	}
}

func TestSweepExpiresOnlyReservationsPastTheirTime(t *testing.T) {
	f := newFixture(map[string]int64{"a": 10, "b": 10})
	_, _ = f.inv.Reserve(ctx, "abandoned", []domain.Line{line("a", 3), line("b", 1)}, 0)
	_, _ = f.inv.Reserve(ctx, "paid", []domain.Line{line("a", 2)}, 0)
	_, _ = f.inv.Commit(ctx, "paid")
	f.clock.Advance(2 * time.Minute) // past the 1-minute TTL
	_, _ = f.inv.Reserve(ctx, "recent", []domain.Line{line("b", 4)}, 0)

	n, err := f.inv.SweepExpired(ctx)
	if err != nil || n != 1 {
		t.Fatalf("swept %d, %v; want the abandoned one only", n, err)
	}
	for id, want := range map[string]domain.ReservationStatus{"abandoned": domain.StatusExpired, "paid": domain.StatusCommitted, "recent": domain.StatusReserved} {
		if r, _ := f.inv.Get(ctx, id); r.Status != want {
			t.Errorf("%s is %s, want %s", id, r.Status, want)
		}
	}
	if a, b := f.stock.available("a"), f.stock.available("b"); a != 8 || b != 6 {
		t.Errorf("available a=%d b=%d, want 8 (2 sold) and 6 (4 held)", a, b)
	}
	if n, err := f.inv.SweepExpired(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
}

func TestReleaseBeforeReserveLeavesATombstone(t *testing.T) {
	f := newFixture(map[string]int64{"a": 10})
	if r, err := f.inv.Release(ctx, "late"); err != nil || r.Status != domain.StatusReleased {
		t.Fatalf("release of an unknown order: %+v %v", r, err)
	}
	out, err := f.inv.Reserve(ctx, "late", []domain.Line{line("a", 1)}, 0)
	if err != nil || !out.Replayed || out.Reservation.Status != domain.StatusReleased || f.stock.available("a") != 10 {
		t.Fatalf("a reservation after its order was cancelled took stock: %+v %v", out, err)
	}
}

func TestLowStockIsAnnouncedOnceWhenCrossingTheThreshold(t *testing.T) {
	f := newFixture(map[string]int64{"a": 5})
	_, _ = f.inv.Reserve(ctx, "o1", []domain.Line{line("a", 1)}, 0) // 4: above 3
	_, _ = f.inv.Reserve(ctx, "o2", []domain.Line{line("a", 2)}, 0) // 2: crosses
	_, _ = f.inv.Reserve(ctx, "o3", []domain.Line{line("a", 1)}, 0) // 1: already below
	if n := f.pub.topics()[events.TopicInventoryLowStock]; n != 1 {
		t.Fatalf("%d low-stock events, want 1", n)
	}
}

func line(productID string, qty int64) domain.Line {
	return domain.Line{ProductID: productID, Quantity: qty}
}

func TestLowStockThresholdChangesWhileServing(t *testing.T) {
	f := newFixture(map[string]int64{"a": 10})
	_, _ = f.inv.Reserve(ctx, "o1", []domain.Line{line("a", 5)}, 0) // 5: above 3
	f.inv.SetLowStockThreshold(8)
	_, _ = f.inv.Reserve(ctx, "o2", []domain.Line{line("a", 1)}, 0) // 4: was already below 8
	if n := f.pub.topics()[events.TopicInventoryLowStock]; n != 0 {
		t.Fatalf("%d low-stock events for stock that was below the new threshold already", n)
	}
	f.inv.SetLowStockThreshold(4)
	_, _ = f.inv.Reserve(ctx, "o3", []domain.Line{line("a", 1)}, 0) // 3: crosses 4
	if n := f.pub.topics()[events.TopicInventoryLowStock]; n != 1 {
		t.Fatalf("%d low-stock events after crossing the new threshold, want 1", n)
	}
}
