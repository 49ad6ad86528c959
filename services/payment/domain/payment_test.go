package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/daprshop/payment/domain"
)

func TestRefunds(t *testing.T) {
	now := time.Now()
	p, err := domain.NewPayment("o1", "a@b.co", domain.Money{Amount: 1000, Currency: "EUR"}, "tok_visa", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AddRefund("k1", 100, now); !errors.Is(err, domain.ErrNotCaptured) {
		t.Fatalf("refund before capture: %v", err)
	}
	declined := *p
	declined.Status = domain.StatusDeclined
	if changed, err := declined.AddRefund("k1", 0, now); err != nil || changed || declined.Refunded != 0 {
		t.Fatalf("refund of a decline: changed %v, %v, refunded %d: want done, with nothing owed", changed, err, declined.Refunded)
	}
	p.Status = domain.StatusSucceeded
	steps := []struct {
		key     string
		amount  int64
		changed bool
		err     error
	}{
		{"k1", 300, true, nil},
		{"k1", 300, false, nil},                      // same key, same amount: replay
		{"k1", 200, false, domain.ErrRefundMismatch}, // same key, other amount
		{"k2", 800, false, domain.ErrOverRefund},     // 300 + 800 > 1000
		{"k3", 0, true, nil},                         // the rest: 700
		{"k4", 1, false, domain.ErrOverRefund},       // nothing left
	}
	for _, s := range steps {
		changed, err := p.AddRefund(s.key, s.amount, now)
		if changed != s.changed || !errors.Is(err, s.err) {
			t.Fatalf("refund %s %d: %v %v, want %v %v", s.key, s.amount, changed, err, s.changed, s.err)
		}
	}
	if p.Refunded != 1000 || len(p.Refunds) != 2 {
		t.Fatalf("refunded %d in %d refunds", p.Refunded, len(p.Refunds))
	}
}

func TestNewPaymentValidates(t *testing.T) {
	_, err := domain.NewPayment("bad id!", "", domain.Money{Amount: -1, Currency: "eur"}, "", time.Now())
	if err == nil {
		t.Fatal("accepted")
	}
	if p, _ := domain.NewPayment("o-1", "", domain.Money{Amount: 1, Currency: "EUR"}, "tok_visa", time.Now()); p.ID != "pay_o-1" {
		t.Fatalf("id %s", p.ID)
	}
}
