package ports

import (
	"net/http"

	"github.com/gorilla/mux"
)

// Upstream returns a handler that forwards to a service by its Dapr app ID.
type Upstream interface {
	To(appID string) http.Handler
}

// Routes registers the public API. /api/<path> is forwarded to the owning
// service as <path>. Every route not marked public needs a valid token.
func Routes(r *mux.Router, up Upstream, auth *Authenticator) {
	api := r.PathPrefix("/api").Subrouter()

	// user service
	user := up.To("user")
	api.Handle("/users/register", user).Methods(http.MethodPost)
	api.Handle("/users/login", user).Methods(http.MethodPost)
	api.Handle("/users/me", auth.Require(user)).Methods(http.MethodGet)
	api.Handle("/users/{id}", auth.Require(user)).Methods(http.MethodGet, http.MethodPut, http.MethodDelete)
}
