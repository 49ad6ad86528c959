package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/daprshop/product/domain"
)

func TestStockHoldsAreIdempotentPerOrder(t *testing.T) {
	s := domain.Stock{Available: 5}
	if changed, err := s.Hold("o1", 3); err != nil || !changed || s.Available != 2 {
		t.Fatalf("hold: %v %v %+v", changed, err, s)
	}
	if changed, err := s.Hold("o1", 3); err != nil || changed || s.Available != 2 {
		t.Fatalf("second hold for one order changed stock: %+v", s)
	}
	if _, err := s.Hold("o2", 3); !errors.Is(err, domain.ErrInsufficientStock) || s.Available != 2 {
		t.Fatalf("over-hold: %v %+v", err, s)
	}
	if !s.Release("o1") || s.Release("o1") || s.Available != 5 {
		t.Fatalf("release: %+v", s)
	}
	_, _ = s.Hold("o3", 4)
	if !s.Commit("o3") || s.Commit("o3") || s.Sold != 4 || s.Available != 1 || len(s.Holds) != 0 {
		t.Fatalf("commit: %+v", s)
	}
}

// A return is made once per order, and remembered for ReturnMemory: marks
// older than that are dropped at the next return, and marks made before
// they had a time are kept from then on.
func TestReturnsAreOncePerOrderAndForgottenAfterAMonth(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s := domain.Stock{Available: 0, Sold: 10, Returns: map[string]int64{"legacy": 1}}
	if !s.Return("o1", 2, t0) || s.Return("o1", 2, t0.Add(time.Hour)) || s.Available != 2 || s.Sold != 8 {
		t.Fatalf("return twice: %+v", s)
	}
	if s.ReturnedAt["legacy"] != t0.Unix() {
		t.Fatalf("a mark without a time was not given one: %+v", s.ReturnedAt)
	}
	later := t0.Add(domain.ReturnMemory + time.Hour)
	if !s.Return("o2", 1, later) {
		t.Fatalf("return o2: %+v", s)
	}
	if _, kept := s.Returns["o1"]; kept || len(s.Returns) != 1 || len(s.ReturnedAt) != 1 {
		t.Fatalf("marks older than %s kept: %+v %+v", domain.ReturnMemory, s.Returns, s.ReturnedAt)
	}
	if s.Return("o2", 1, later) || s.Available != 3 {
		t.Fatalf("o2 returned twice: %+v", s)
	}
}

func TestNormalizeLines(t *testing.T) {
	lines, err := domain.NormalizeLines("o1", []domain.Line{{ProductID: "b", Quantity: 1}, {ProductID: "a", Quantity: 2}, {ProductID: "b", Quantity: 3}})
	if err != nil || len(lines) != 2 || lines[0] != (domain.Line{ProductID: "a", Quantity: 2}) || lines[1] != (domain.Line{ProductID: "b", Quantity: 4}) {
		t.Fatalf("lines %v, %v", lines, err)
	}
	for name, in := range map[string][]domain.Line{
		"none": nil, "zero quantity": {{ProductID: "a", Quantity: 0}}, "no product": {{ProductID: "", Quantity: 1}}, "too many units": {{ProductID: "a", Quantity: 600}, {ProductID: "a", Quantity: 600}},
	} {
		if _, err := domain.NormalizeLines("o1", in); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := domain.NormalizeLines("", []domain.Line{{ProductID: "a", Quantity: 1}}); err == nil {
		t.Error("empty order ID accepted")
	}
}
