package adapters_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/daprshop/payment/adapters"
	"github.com/daprshop/payment/app"
	"github.com/daprshop/payment/domain"
)

func TestDeclineRateDeclinesThatShareOfGoodCardsAlways(t *testing.T) {
	p := adapters.NewSimulatedProvider(0)
	ctx := context.Background()
	count := func() int {
		declined := 0
		for i := range 1000 {
			out, _, _ := p.Charge(ctx, fmt.Sprintf("pay-%d", i), adapters.MethodApprove, domain.Money{}, 1)
			if out == app.Declined {
				declined++
			}
		}
		return declined
	}
	if n := count(); n != 0 {
		t.Errorf("rate 0: %d declined", n)
	}
	p.Set(0, 0.3)
	if n := count(); n < 250 || n > 350 {
		t.Errorf("rate 0.3: %d of 1000 declined", n)
	}
	// Every attempt of one payment gets the same answer.
	first, _, _ := p.Charge(ctx, "pay-7", adapters.MethodApprove, domain.Money{}, 1)
	for attempt := 2; attempt <= 5; attempt++ {
		if out, _, _ := p.Charge(ctx, "pay-7", adapters.MethodApprove, domain.Money{}, attempt); out != first {
			t.Fatalf("attempt %d answered %v, the first %v", attempt, out, first)
		}
	}
	p.Set(0, 1)
	if n := count(); n != 1000 {
		t.Errorf("rate 1: %d declined", n)
	}
	if out, _, _ := p.Charge(ctx, "x", adapters.MethodTransient, domain.Money{}, 1); out != app.Unavailable {
		t.Errorf("the decline rate changed a test card's answer: %v", out)
	}
}

func TestLatencyChangesWhileServing(t *testing.T) {
	p := adapters.NewSimulatedProvider(time.Hour)
	p.Set(time.Millisecond, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, _, err := p.Charge(ctx, "p", adapters.MethodApprove, domain.Money{}, 1); err != nil || out != app.Approved {
		t.Fatalf("%v %v", out, err)
	}
}
