package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/daprshop/order/domain"
)

func TestNewOrder(t *testing.T) {
	now := time.Now()
	o, err := domain.NewOrder("u1", "a@b.co", "key-1", []domain.Line{{ProductID: "b", Quantity: 1}, {ProductID: "a", Quantity: 2}, {ProductID: "b", Quantity: 2}}, "tok_visa", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Lines) != 2 || o.Lines[0].ProductID != "a" || o.Lines[1].Quantity != 3 || o.Status != domain.StatusPending {
		t.Fatalf("order %+v", o)
	}
	if o.ID != domain.IDFor("u1", "key-1") || o.ID == domain.IDFor("u2", "key-1") || o.ID == domain.IDFor("u1", "key-2") {
		t.Error("order IDs must depend on user and key only")
	}
	same, _ := domain.NewOrder("u1", "a@b.co", "key-1", []domain.Line{{ProductID: "a", Quantity: 2}, {ProductID: "b", Quantity: 3}}, "tok_visa", now)
	other, _ := domain.NewOrder("u1", "a@b.co", "key-1", []domain.Line{{ProductID: "a", Quantity: 1}}, "tok_visa", now)
	if !o.SameRequest(same) || o.SameRequest(other) {
		t.Error("request hash does not tell a retry from a reused key")
	}
	for name, lines := range map[string][]domain.Line{"none": nil, "zero": {{ProductID: "a"}}, "no product": {{Quantity: 1}}} {
		if _, err := domain.NewOrder("u1", "", "k", lines, "tok_visa", now); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := domain.NewOrder("u1", "", "", []domain.Line{{ProductID: "a", Quantity: 1}}, "tok_visa", now); err == nil {
		t.Error("missing key accepted")
	}
}

func TestTransitions(t *testing.T) {
	o, _ := domain.NewOrder("u1", "", "k", []domain.Line{{ProductID: "a", Quantity: 1}}, "tok_visa", time.Now())
	for _, s := range []domain.Status{domain.StatusReserved, domain.StatusPaid, domain.StatusShipped} {
		if _, err := o.MoveTo(s, time.Now(), ""); err != nil {
			t.Fatal(err)
		}
	}
	if o.Cancellable() {
		t.Error("a shipped order is cancellable")
	}
	if _, err := o.MoveTo(domain.StatusCancelled, time.Now(), ""); !errors.Is(err, domain.ErrTransition) {
		t.Errorf("shipped → cancelled: %v", err)
	}
	if changed, err := o.MoveTo(domain.StatusShipped, time.Now(), ""); changed || err != nil {
		t.Error("a repeated transition must change nothing")
	}
	if len(o.History) != 4 {
		t.Errorf("history %v", o.History)
	}
}
