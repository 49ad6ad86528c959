// Package ports is the order service's HTTP interface, behind the gateway.
package ports

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/daprshop/order/app"
	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/daprjobs"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/validate"
)

// IdempotencyHeader names the key that makes POST /orders safe to retry.
const IdempotencyHeader = "Idempotency-Key"

// HTTP serves the order API.
type HTTP struct {
	orders *app.Orders
	v      *validate.Validator
}

// NewHTTP returns the handlers.
func NewHTTP(o *app.Orders, v *validate.Validator) *HTTP { return &HTTP{orders: o, v: v} }

// Register adds the routes to r.
func (h *HTTP) Register(r *mux.Router) {
	r.HandleFunc("/orders", h.place).Methods(http.MethodPost)
	r.HandleFunc("/orders/user/{userId}", h.listByUser).Methods(http.MethodGet)
	r.HandleFunc("/orders/{id}", h.get).Methods(http.MethodGet)
	r.HandleFunc("/orders/{id}/status", h.setStatus).Methods(http.MethodPut)
	r.HandleFunc("/orders/{id}/cancel", h.cancel).Methods(http.MethodPost)
	daprjobs.Route(r, daprjobs.Counting(SweepJob, "started", h.orders.SweepStarts), writeError)
}

type lineRequest struct {
	// Limits in package orderline, checked by the domain.
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
}

type placeRequest struct {
	Lines []lineRequest `json:"lines" validate:"required"`
	// PaymentMethod is a payment token (see README, "Payments", for test tokens).
	PaymentMethod string `json:"paymentMethod" validate:"required,max=100"`
}

type statusRequest struct {
	Status domain.Status `json:"status" validate:"required,oneof=shipped delivered cancelled"`
}

// place answers 201 for a new order and 200 with Idempotent-Replayed for a
// retry; the order's status is pending until the checkout moves it.
func (h *HTTP) place(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	var req placeRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	lines := make([]domain.Line, len(req.Lines))
	for i, l := range req.Lines {
		lines[i] = domain.Line{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	o, replayed, err := h.orders.Place(r.Context(), who, app.PlaceInput{
		IdempotencyKey: r.Header.Get(IdempotencyHeader), Lines: lines, PaymentMethod: req.PaymentMethod,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/orders/"+o.ID)
	status := http.StatusCreated
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	httpapi.WriteJSON(w, status, toResponse(o))
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	o, err := h.orders.Get(r.Context(), who, mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toResponse(o))
}

func (h *HTTP) listByUser(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n == 0 {
			httpapi.WriteError(w, r, problem.Invalid([]problem.FieldError{{Field: "limit", Message: "must be between 1 and 100"}}))
			return
		}
		limit = n
	}
	page, err := h.orders.ListByUser(r.Context(), who, mux.Vars(r)["userId"], limit, r.URL.Query().Get("cursor"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toPage(page))
}

func (h *HTTP) setStatus(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	var req statusRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	o, err := h.orders.SetStatus(r.Context(), who, mux.Vars(r)["id"], req.Status)
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, toResponse(o))
}

// cancel answers 202: the checkout compensates (refund, release) at its next step.
func (h *HTTP) cancel(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	o, err := h.orders.Cancel(r.Context(), who, mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, toResponse(o))
}

func principal(w http.ResponseWriter, r *http.Request) (identity.Principal, bool) {
	p, ok := identity.FromHeaders(r.Header)
	if !ok {
		httpapi.WriteError(w, r, problem.New(http.StatusUnauthorized, "sign in first: send a bearer token to the gateway"))
	}
	return p, ok
}

// writeError is the one place domain errors become HTTP statuses.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, domain.ErrNotFound):
		err = problem.New(http.StatusNotFound, "no such order")
	case errors.Is(err, domain.ErrForbidden):
		err = problem.New(http.StatusForbidden, "only the buyer or an admin may do this")
	case errors.Is(err, domain.ErrKeyReused):
		err = problem.New(http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, domain.ErrTransition):
		err = problem.New(http.StatusConflict, err.Error())
	}
	httpapi.WriteError(w, r, err)
}

// SweepJob is the recurring job that starts the checkouts a crash left
// unstarted (app.Orders.SweepStarts).
const SweepJob = "checkout-start-sweep"
