// Package ports is the payment service's HTTP interface, for the order
// service (charges, refunds) and, through the gateway, for admins (reads).
package ports

import (
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"github.com/daprshop/payment/app"
	"github.com/daprshop/payment/domain"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/validate"
)

// HTTP serves the payment API.
type HTTP struct {
	payments *app.Payments
	v        *validate.Validator
	callers  []string
}

// NewHTTP returns the handlers; callers may charge and refund.
func NewHTTP(p *app.Payments, v *validate.Validator, callers []string) *HTTP {
	return &HTTP{payments: p, v: v, callers: callers}
}

// Register adds the routes to r.
func (h *HTTP) Register(r *mux.Router) {
	r.Handle("/payments", sidecar.OnlyCallers(h.callers, http.HandlerFunc(h.charge))).Methods(http.MethodPost)
	r.HandleFunc("/payments/{id}", h.get).Methods(http.MethodGet)
	r.Handle("/payments/{id}/refund", sidecar.OnlyCallers(h.callers, http.HandlerFunc(h.refund))).Methods(http.MethodPost)
}

type moneyJSON struct {
	Amount   int64  `json:"amount" validate:"min=1"`
	Currency string `json:"currency" validate:"required,len=3"`
}

type chargeRequest struct {
	OrderID string    `json:"orderId" validate:"required,max=100"`
	Email   string    `json:"email" validate:"omitempty,email"`
	Amount  moneyJSON `json:"amount"`
	// Method is a payment method token (see README, "Payments", for test tokens).
	Method string `json:"method" validate:"required,max=100"`
}

type refundRequest struct {
	// RefundKey makes the refund idempotent: a second request with the same key refunds nothing more.
	RefundKey string `json:"refundKey" validate:"required,max=100"`
	// Amount in minor units; 0 or absent refunds everything not yet refunded.
	Amount int64 `json:"amount" validate:"min=0"`
}

// charge answers 201 with the payment, succeeded or declined: a decline is
// the provider's answer, not a failure of this call (so a circuit breaker
// on this route counts only real failures). A transient provider failure
// is a 503 the caller may retry: the charge is idempotent per order.
func (h *HTTP) charge(w http.ResponseWriter, r *http.Request) {
	var req chargeRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	p, replayed, err := h.payments.Charge(r.Context(), app.ChargeRequest{
		OrderID: req.OrderID, Email: req.Email, Method: req.Method,
		Amount: domain.Money{Amount: req.Amount.Amount, Currency: req.Amount.Currency},
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	httpapi.WriteJSON(w, http.StatusCreated, toResponse(p))
}

// get shows a payment to the order service or to an admin.
func (h *HTTP) get(w http.ResponseWriter, r *http.Request) {
	who, ok := identity.FromHeaders(r.Header)
	if !slices.Contains(h.callers, r.Header.Get(sidecar.CallerHeader)) && !(ok && who.IsAdmin()) {
		httpapi.WriteError(w, r, problem.New(http.StatusForbidden, "payments are visible to admins only"))
		return
	}
	pay, err := h.payments.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toResponse(pay))
}

func (h *HTTP) refund(w http.ResponseWriter, r *http.Request) {
	var req refundRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	p, err := h.payments.Refund(r.Context(), mux.Vars(r)["id"], req.RefundKey, req.Amount)
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toResponse(p))
}
