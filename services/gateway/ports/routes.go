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

// Access is who may call a route.
type Access int

const (
	Public Access = iota // anyone; limited per client address
	Token                // a valid token of a live session; limited per user
	Admin                // a token with the admin role
)

// Route is one line of the public API: /api<Path> is forwarded to App as
// <Path>, under Group's limits.
type Route struct {
	Path    string
	Methods []string
	App     string
	Group   string
	Access  Access
	// Credentials marks the routes that take a password or a refresh token:
	// if the limiter's store is down they refuse (503) rather than allow
	// unlimited guessing.
	Credentials bool
	// Feature, when set, names the switch that can close the route (Features).
	Feature string
	// Cache says whether the route's answers are kept at the edge, or
	// empty what is kept (cache.go).
	Cache CacheUse
}

const (
	get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
)

// Table is the public API. The product service's /inventory API and the
// payment service's charges and refunds belong to the order service and
// have no route here.
var Table = []Route{
	{Path: "/users/register", Methods: []string{post}, App: "user", Group: "users", Access: Public, Credentials: true, Feature: "registration"},
	{Path: "/users/login", Methods: []string{post}, App: "user", Group: "users", Access: Public, Credentials: true},
	{Path: "/users/refresh", Methods: []string{post}, App: "user", Group: "users", Access: Public, Credentials: true},
	{Path: "/users/logout", Methods: []string{post}, App: "user", Group: "users", Access: Token},
	{Path: "/users/me", Methods: []string{get}, App: "user", Group: "users", Access: Token},
	{Path: "/users/{id}", Methods: []string{get, put, del}, App: "user", Group: "users", Access: Token},

	// The catalog is public to read, admin-only to change.
	// Reads are the same for every caller, so they are kept at the edge.
	{Path: "/products", Methods: []string{get}, App: "product", Group: "products", Access: Public, Cache: CacheReads},
	{Path: "/products", Methods: []string{post}, App: "product", Group: "products", Access: Admin, Cache: PurgeCache},
	{Path: "/products/{id}", Methods: []string{get}, App: "product", Group: "products", Access: Public, Cache: CacheItem},
	{Path: "/products/{id}", Methods: []string{put, del}, App: "product", Group: "products", Access: Admin, Cache: PurgeCache},

	// Reviews (the Node.js service): public to read; a buyer writes or
	// removes their own, once they received the product.
	{Path: "/products/{id}/reviews", Methods: []string{get}, App: "reviews", Group: "reviews", Access: Public},
	{Path: "/products/{id}/reviews/mine", Methods: []string{put, del}, App: "reviews", Group: "reviews", Access: Token},

	// Orders need a token; the service checks ownership.
	{Path: "/orders", Methods: []string{post}, App: "order", Group: "orders", Access: Token, Feature: "checkout"},
	{Path: "/orders/user/{userId}", Methods: []string{get}, App: "order", Group: "orders", Access: Token},
	{Path: "/orders/{id}", Methods: []string{get}, App: "order", Group: "orders", Access: Token},
	{Path: "/orders/{id}/cancel", Methods: []string{post}, App: "order", Group: "orders", Access: Token},
	{Path: "/orders/{id}/status", Methods: []string{put}, App: "order", Group: "orders", Access: Admin},

	// Payments and dead letters: read and replay by admins.
	{Path: "/payments/{id}", Methods: []string{get}, App: "payment", Group: "payments", Access: Admin},
	{Path: "/admin/deadletters", Methods: []string{get}, App: "notification", Group: "admin", Access: Admin},
	{Path: "/admin/deadletters/{id}/replay", Methods: []string{post}, App: "notification", Group: "admin", Access: Admin},
}

// Routes registers the table on r: each route is counted, its body
// limited, its token checked, its caller rate-limited, its answer taken
// from the edge cache (or the cache emptied after a write) and its upstream
// call bounded, in that order.
func Routes(r *mux.Router, table []Route, up Upstream, auth *Authenticator, edge *Edge) {
	for _, rt := range table {
		h := edge.deadline(rt.Group, up.To(rt.App))
		switch rt.Cache {
		case CacheReads, CacheItem:
			h = edge.cached(rt.Cache, h)
		case PurgeCache:
			h = edge.purging(h)
		}
		if rt.Access == Admin {
			h = RequireRole(identity.RoleAdmin, h)
		}
		mode := FailOpen
		if rt.Credentials {
			mode = FailClosed
		}
		h = edge.limit(rt.Group, mode, h)
		if rt.Access != Public {
			h = auth.Require(h)
		}
		rt.Path = "/api" + rt.Path
		// Full paths, no PathPrefix subrouter: with subrouters gorilla/mux
		// 1.8.1 answers 404 instead of 405 for a known path with a wrong method.
		r.Handle(rt.Path, edge.route(rt, h)).Methods(rt.Methods...)
	}
}
