package ports

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/daprshop/payment/app"
	"github.com/daprshop/payment/domain"
	"github.com/daprshop/platform/paymentapi"
)

// Every domain refusal gets a problem type of its own, so a caller can tell
// "not captured yet" from "already refunded" without reading the detail.
func TestEachRefusalHasItsOwnProblemType(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range []struct {
		err    error
		status int
		typ    string
	}{
		{domain.ErrNotFound, http.StatusNotFound, paymentapi.ProblemNotFound},
		{domain.ErrMismatch, http.StatusConflict, paymentapi.ProblemChargeMismatch},
		{fmt.Errorf("refund p1: %w", domain.ErrNotCaptured), http.StatusConflict, paymentapi.ProblemNotCaptured},
		{domain.ErrOverRefund, http.StatusConflict, paymentapi.ProblemOverRefund},
		{domain.ErrRefundMismatch, http.StatusConflict, paymentapi.ProblemRefundKeyReused},
		{app.ErrUnavailable, http.StatusServiceUnavailable, paymentapi.ProblemProviderUnavailable},
	} {
		p := problemFor(tc.err)
		if p == nil || p.Status != tc.status || p.Type != tc.typ {
			t.Errorf("%v: got %+v, want %d %s", tc.err, p, tc.status, tc.typ)
			continue
		}
		if seen[p.Type] {
			t.Errorf("type %s used twice", p.Type)
		}
		seen[p.Type] = true
	}
	if p := problemFor(errors.New("something else")); p != nil {
		t.Errorf("a non-domain error became %+v", p)
	}
}
