package adapters_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/daprshop/order/adapters"
	"github.com/daprshop/order/app"
	"github.com/daprshop/platform/invoke"
	"github.com/daprshop/platform/paymentapi"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/sidecar"
)

// The fake sidecar answers the refund as the payment service would; only
// "everything was given back already" means there is nothing to refund.
func TestRefundTellsThePaymentServicesRefusalsApart(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		nothing bool
	}{
		{paymentapi.ProblemOverRefund, true},
		{paymentapi.ProblemNotCaptured, false},
		{paymentapi.ProblemRefundKeyReused, false},
		{"about:blank", false},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			sc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1.0/invoke/payment/method/payments/p1/refund" {
					t.Errorf("called %s", r.URL.Path)
				}
				w.Header().Set("Content-Type", problem.ContentType)
				w.WriteHeader(http.StatusConflict)
				_, _ = w.Write([]byte(`{"type":"` + tc.typ + `","title":"Conflict","status":409,"detail":"refused"}`))
			}))
			defer sc.Close()
			host, port, _ := net.SplitHostPort(sc.Listener.Addr().String())
			p, _ := strconv.Atoi(port)
			s := adapters.NewServices(invoke.New(sidecar.Config{Host: host, HTTPPort: p}, time.Second))

			err := s.Refund(context.Background(), "p1", "cancel-o1")
			if err == nil {
				t.Fatal("a refusal became a success")
			}
			if got := errors.Is(err, app.ErrNothingToRefund); got != tc.nothing {
				t.Errorf("nothing to refund = %v (%v), want %v", got, err, tc.nothing)
			}
		})
	}
}
