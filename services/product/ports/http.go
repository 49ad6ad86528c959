// Package ports is the product service's HTTP interface: the public catalog
// (behind the gateway), the inventory API for the order service, and the
// callback through which the sidecar delivers due jobs.
package ports

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/daprshop/platform/daprjobs"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/outbox"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/validate"
	"github.com/daprshop/product/app"
	"github.com/daprshop/product/domain"
)

// HTTP serves the product API.
type HTTP struct {
	catalog   *app.Catalog
	inventory *app.Inventory
	v         *validate.Validator
	// inventoryCallers may call /inventory (the order service).
	inventoryCallers []string
	outbox           Sweeper
}

// Sweeper is the outbox's sweep (package outbox).
type Sweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// NewHTTP returns the handlers.
func NewHTTP(c *app.Catalog, inv *app.Inventory, v *validate.Validator, inventoryCallers []string, box Sweeper) *HTTP {
	return &HTTP{catalog: c, inventory: inv, v: v, inventoryCallers: inventoryCallers, outbox: box}
}

// Register adds the routes to r.
func (h *HTTP) Register(r *mux.Router) {
	r.HandleFunc("/products", h.list).Methods(http.MethodGet)
	r.HandleFunc("/products", h.admin(h.create)).Methods(http.MethodPost)
	r.HandleFunc("/products/{id}", h.get).Methods(http.MethodGet)
	r.HandleFunc("/products/{id}", h.admin(h.replace)).Methods(http.MethodPut)
	r.HandleFunc("/products/{id}", h.admin(h.delete)).Methods(http.MethodDelete)

	// No PathPrefix subrouter: with one, gorilla/mux 1.8.1 answers 404
	// instead of 405 for a known path with a wrong method.
	inv := func(f http.HandlerFunc) http.Handler { return sidecar.OnlyCallers(h.inventoryCallers, f) }
	r.Handle("/inventory/reservations", inv(h.reserve)).Methods(http.MethodPost)
	r.Handle("/inventory/reservations/{orderId}", inv(h.reservation)).Methods(http.MethodGet)
	r.Handle("/inventory/reservations/{orderId}/release", inv(h.release)).Methods(http.MethodPost)
	r.Handle("/inventory/reservations/{orderId}/commit", inv(h.commit)).Methods(http.MethodPost)

	daprjobs.Route(r, h.job, writeError)
}

type moneyJSON struct {
	Amount   *int64 `json:"amount" validate:"required"`
	Currency string `json:"currency" validate:"required,len=3"`
}

type productRequest struct {
	Name        string    `json:"name" validate:"required,max=200"`
	Description string    `json:"description" validate:"max=2000"`
	Category    string    `json:"category" validate:"required,max=50"`
	Price       moneyJSON `json:"price" validate:"required"`
	// Stock is the available quantity: required on create, optional on replace.
	Stock *int64 `json:"stock" validate:"omitempty,min=0,max=1000000"`
}

func (p productRequest) fields() domain.ProductFields {
	return domain.ProductFields{Name: p.Name, Description: p.Description, Category: p.Category,
		Price: domain.Money{Amount: *p.Price.Amount, Currency: p.Price.Currency}}
}

type productResponse struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	Price       priceJSON `json:"price"`
	Available   int64     `json:"available"`
	InStock     bool      `json:"inStock"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func toResponse(v app.ProductView) productResponse {
	return productResponse{ID: v.ID, Name: v.Name, Description: v.Description, Category: v.Category, Price: price(v.Price),
		Available: v.Available, InStock: v.Available > 0, Version: v.Version, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := h.catalog.List(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toPage(page))
}

func parseQuery(r *http.Request) (domain.Query, error) {
	v := r.URL.Query()
	q := domain.Query{Text: v.Get("q"), Category: v.Get("category"), Currency: v.Get("currency"),
		Sort: v.Get("sort"), Cursor: v.Get("cursor")}
	var bad []problem.FieldError
	intParam := func(name string) *int64 {
		s := v.Get(name)
		if s == "" {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			bad = append(bad, problem.FieldError{Field: name, Message: "must be an integer"})
			return nil
		}
		return &n
	}
	q.MinPrice, q.MaxPrice = intParam("minPrice"), intParam("maxPrice")
	if l := intParam("limit"); l != nil {
		q.Limit = int(*l)
		if q.Limit == 0 {
			q.Limit = -1 // an explicit 0 is invalid, not "default"
		}
	}
	if s := v.Get("inStock"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			bad = append(bad, problem.FieldError{Field: "inStock", Message: "must be true or false"})
		}
		q.InStock = b
	}
	if len(bad) > 0 {
		return q, problem.Invalid(bad)
	}
	return q, nil
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) {
	v, err := h.catalog.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toResponse(v))
}

func (h *HTTP) create(w http.ResponseWriter, r *http.Request) {
	var req productRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if req.Stock == nil {
		httpapi.WriteError(w, r, problem.Invalid([]problem.FieldError{{Field: "stock", Message: "is required"}}))
		return
	}
	v, err := h.catalog.Create(r.Context(), req.fields(), *req.Stock)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/products/"+v.ID)
	httpapi.WriteJSON(w, http.StatusCreated, toResponse(v))
}

func (h *HTTP) replace(w http.ResponseWriter, r *http.Request) {
	var req productRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	v, err := h.catalog.Replace(r.Context(), mux.Vars(r)["id"], req.fields(), req.Stock)
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toResponse(v))
}

func (h *HTTP) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.catalog.Delete(r.Context(), mux.Vars(r)["id"]); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type reserveRequest struct {
	OrderID string        `json:"orderId" validate:"required,max=100"`
	Lines   []lineRequest `json:"lines" validate:"required"`
	// TTLSeconds overrides the configured reservation time-to-live.
	TTLSeconds int `json:"ttlSeconds" validate:"omitempty,min=1,max=86400"`
}

type lineRequest struct {
	// Limits in package orderline, checked by the domain.
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
}

// reserve answers a repeated request as it answered the first one: the same
// status and body, with Idempotent-Replayed: true.
func (h *HTTP) reserve(w http.ResponseWriter, r *http.Request) {
	var req reserveRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	lines := make([]domain.Line, len(req.Lines))
	for i, l := range req.Lines {
		lines[i] = domain.Line{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	out, err := h.inventory.Reserve(r.Context(), req.OrderID, lines, time.Duration(req.TTLSeconds)*time.Second)
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if err == nil {
		err = reservationOutcome(out.Reservation)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, toReservation(out.Reservation))
}

// reservationOutcome turns a replayed reservation that holds no stock into
// the error its first request got.
func reservationOutcome(res *domain.Reservation) error {
	switch res.Status {
	case domain.StatusRejected:
		return &app.InsufficientStockError{Reason: res.Reason}
	case domain.StatusReleased, domain.StatusReleasing, domain.StatusExpired, domain.StatusExpiring,
		domain.StatusReturning, domain.StatusReturned:
		return &closedError{res}
	}
	return nil
}

func (h *HTTP) reservation(w http.ResponseWriter, r *http.Request) {
	res, err := h.inventory.Get(r.Context(), mux.Vars(r)["orderId"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toReservation(res))
}

func (h *HTTP) release(w http.ResponseWriter, r *http.Request) {
	res, err := h.inventory.Release(r.Context(), mux.Vars(r)["orderId"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toReservation(res))
}

func (h *HTTP) commit(w http.ResponseWriter, r *http.Request) {
	res, err := h.inventory.Commit(r.Context(), mux.Vars(r)["orderId"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toReservation(res))
}

// job does the jobs this app scheduled (daprjobs.Route): the expiry sweep,
// the outbox's sweep, and the per-order expiry jobs scheduled before them.
func (h *HTTP) job(ctx context.Context, name string) (any, bool, error) {
	if name == outbox.SweepJob {
		n, err := h.outbox.Sweep(ctx)
		return map[string]int{"published": n}, true, err
	}
	if name == app.SweepJob {
		n, err := h.inventory.SweepExpired(ctx)
		return map[string]int{"expired": n}, true, err
	}
	orderID, ok := strings.CutPrefix(name, app.ExpiryJobPrefix)
	if !ok {
		return nil, false, nil
	}
	res, err := h.inventory.Expire(ctx, orderID)
	if err != nil {
		return nil, true, err
	}
	return toReservation(res), true, nil
}

// admin lets through only callers the gateway identified as admins.
func (h *HTTP) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := identity.FromHeaders(r.Header)
		switch {
		case !ok:
			httpapi.WriteError(w, r, problem.New(http.StatusUnauthorized, "sign in first: send a bearer token to the gateway"))
		case !p.IsAdmin():
			httpapi.WriteError(w, r, problem.New(http.StatusForbidden, "changing the catalog needs the admin role"))
		default:
			next(w, r)
		}
	}
}
