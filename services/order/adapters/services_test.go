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
// "everything was given back already" and "no payment" (the order was
// never charged) mean there is nothing to refund.
func TestRefundTellsThePaymentServicesRefusalsApart(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		status  int
		nothing bool
	}{
		{paymentapi.ProblemOverRefund, http.StatusConflict, true},
		{paymentapi.ProblemNotFound, http.StatusNotFound, true},
		{paymentapi.ProblemNotCaptured, http.StatusConflict, false},
		{paymentapi.ProblemRefundKeyReused, http.StatusConflict, false},
		{"about:blank", http.StatusConflict, false},
		{"about:blank", http.StatusNotFound, false},
	} {
		t.Run(tc.typ+"/"+strconv.Itoa(tc.status), func(t *testing.T) {
			sc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1.0/invoke/payment/method/payments/pay_o1/refund" {
					t.Errorf("called %s", r.URL.Path)
				}
				w.Header().Set("Content-Type", problem.ContentType)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(`{"type":"` + tc.typ + `","title":"Refused","status":` + strconv.Itoa(tc.status) + `,"detail":"refused"}`))
			}))
			defer sc.Close()
			host, port, _ := net.SplitHostPort(sc.Listener.Addr().String())
			p, _ := strconv.Atoi(port)
			s := adapters.NewServices(invoke.New(sidecar.Config{Host: host, HTTPPort: p}, time.Second))

			err := s.Refund(context.Background(), "o1", "cancel-o1")
			if err == nil {
				t.Fatal("a refusal became a success")
			}
			if got := errors.Is(err, app.ErrNothingToRefund); got != tc.nothing {
				t.Errorf("nothing to refund = %v (%v), want %v", got, err, tc.nothing)
			}
		})
	}
}
