package ports

import (
	"errors"
	"net/http"

	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/product/app"
	"github.com/daprshop/product/domain"
)

type closedError struct{ r *domain.Reservation }

func (e *closedError) Error() string { return "reservation " + string(e.r.Status) }

// writeError is the one place domain errors become HTTP statuses
// (invalid.Error is answered by httpapi.WriteError).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var insufficient *app.InsufficientStockError
	var closed *closedError
	switch {
	case errors.As(err, &insufficient):
		p := problem.New(http.StatusConflict, insufficient.Reason)
		p.Title = "Insufficient stock"
		err = p
	case errors.As(err, &closed):
		err = problem.New(http.StatusConflict, "the order's reservation was "+string(closed.r.Status)+"; reserve under a new order ID")
	case errors.Is(err, domain.ErrNotFound):
		err = problem.New(http.StatusNotFound, "not found")
	case errors.Is(err, domain.ErrBadCursor):
		err = problem.Invalid([]problem.FieldError{{Field: "cursor", Message: "is not a cursor of this listing; start again without it"}})
	case errors.Is(err, domain.ErrHasReservations), errors.Is(err, domain.ErrReservationMismatch),
		errors.Is(err, domain.ErrReservationClosed), errors.Is(err, domain.ErrConflict):
		err = problem.New(http.StatusConflict, err.Error())
	case errors.Is(err, domain.ErrReservationBusy):
		w.Header().Set("Retry-After", "1")
		err = problem.New(http.StatusConflict, err.Error())
	}
	httpapi.WriteError(w, r, err)
}
