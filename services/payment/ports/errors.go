package ports

import (
	"errors"
	"net/http"

	"github.com/daprshop/payment/app"
	"github.com/daprshop/payment/domain"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/paymentapi"
	"github.com/daprshop/platform/problem"
)

// writeError is the one place domain errors become HTTP statuses.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if p := problemFor(err); p != nil {
		if p.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		err = p
	}
	httpapi.WriteError(w, r, err)
}

// problemFor is the problem, with a type of its own (package paymentapi),
// that a domain error is answered with; nil for errors that are not the
// domain's.
func problemFor(err error) *problem.Problem {
	for _, m := range []struct {
		err    error
		status int
		typ    string
	}{
		{domain.ErrNotFound, http.StatusNotFound, paymentapi.ProblemNotFound},
		{domain.ErrMismatch, http.StatusConflict, paymentapi.ProblemChargeMismatch},
		{domain.ErrNotCaptured, http.StatusConflict, paymentapi.ProblemNotCaptured},
		{domain.ErrVoided, http.StatusConflict, paymentapi.ProblemVoided},
		{domain.ErrOverRefund, http.StatusConflict, paymentapi.ProblemOverRefund},
		{domain.ErrRefundMismatch, http.StatusConflict, paymentapi.ProblemRefundKeyReused},
		{app.ErrUnavailable, http.StatusServiceUnavailable, paymentapi.ProblemProviderUnavailable},
	} {
		if errors.Is(err, m.err) {
			detail := err.Error()
			if m.err == domain.ErrNotFound {
				detail = "no such payment"
			}
			return problem.Typed(m.status, m.typ, detail)
		}
	}
	return nil
}
