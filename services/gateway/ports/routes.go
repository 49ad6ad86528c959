package ports

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/daprshop/platform/identity"
)

// Upstream returns a handler that forwards to a service by its Dapr app ID.
type Upstream interface {
	To(appID string) http.Handler
}

// Routes registers the public API. /api/<path> is forwarded to the owning
// service as <path>. Every route not marked public needs a valid token.
func Routes(r *mux.Router, up Upstream, auth *Authenticator) {
	// Full paths, no PathPrefix subrouter: with subrouters gorilla/mux 1.8.1
	// answers 404 instead of 405 for a known path with a wrong method.
	api := prefixed{r, "/api"}

	// user service
	user := up.To("user")
	api.Handle("/users/register", user).Methods(http.MethodPost)
	api.Handle("/users/login", user).Methods(http.MethodPost)
	api.Handle("/users/refresh", user).Methods(http.MethodPost)
	api.Handle("/users/logout", auth.Require(user)).Methods(http.MethodPost)
	api.Handle("/users/me", auth.Require(user)).Methods(http.MethodGet)
	api.Handle("/users/{id}", auth.Require(user)).Methods(http.MethodGet, http.MethodPut, http.MethodDelete)

	// product service: the catalog is public to read, admin-only to change.
	// Its /inventory API is for the order service and has no route here.
	product := up.To("product")
	adminOnly := auth.Require(RequireRole(identity.RoleAdmin, product))
	api.Handle("/products", product).Methods(http.MethodGet)
	api.Handle("/products", adminOnly).Methods(http.MethodPost)
	api.Handle("/products/{id}", product).Methods(http.MethodGet)
	api.Handle("/products/{id}", adminOnly).Methods(http.MethodPut, http.MethodDelete)

	// order service: everything needs a token; the service checks ownership.
	order := auth.Require(up.To("order"))
	api.Handle("/orders", order).Methods(http.MethodPost)
	api.Handle("/orders/user/{userId}", order).Methods(http.MethodGet)
	api.Handle("/orders/{id}", order).Methods(http.MethodGet)
	api.Handle("/orders/{id}/cancel", order).Methods(http.MethodPost)
	api.Handle("/orders/{id}/status", auth.Require(RequireRole(identity.RoleAdmin, up.To("order")))).Methods(http.MethodPut)

	// payments and dead letters: read and replay by admins; charges and
	// refunds are the order service's, with no route here.
	api.Handle("/payments/{id}", auth.Require(RequireRole(identity.RoleAdmin, up.To("payment")))).Methods(http.MethodGet)
	notification := auth.Require(RequireRole(identity.RoleAdmin, up.To("notification")))
	api.Handle("/admin/deadletters", notification).Methods(http.MethodGet)
	api.Handle("/admin/deadletters/{id}/replay", notification).Methods(http.MethodPost)
}

// prefixed registers routes under a path prefix on the router itself.
type prefixed struct {
	r      *mux.Router
	prefix string
}

func (p prefixed) Handle(path string, h http.Handler) *mux.Route {
	return p.r.Handle(p.prefix+path, h)
}
