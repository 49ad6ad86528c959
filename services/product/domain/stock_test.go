package domain_test

import (
	"errors"
	"testing"

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
