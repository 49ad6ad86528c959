// Package identity carries the caller's verified identity from the gateway to
// the services. The gateway verifies the JWT, deletes any identity headers the
// client sent, and sets these from the token's claims; services read them and
// never see the token.
package identity

import (
	"context"
	"net/http"
)

// Headers the gateway sets on every request it forwards.
const (
	HeaderUserID = "X-User-Id"
	HeaderRole   = "X-User-Role"
	HeaderEmail  = "X-User-Email"
	// HeaderClientAddress is the client's IP address as the gateway saw
	// it (the user service throttles failed logins per address).
	HeaderClientAddress = "X-Client-Address"
)

// Roles.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Principal is an authenticated caller.
type Principal struct {
	UserID string
	Role   string
	Email  string
}

// IsAdmin reports whether p may act on anyone's resources.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// CanAccess reports whether p may act on resources owned by ownerID.
func (p Principal) CanAccess(ownerID string) bool { return p.IsAdmin() || p.UserID == ownerID }

// FromHeaders returns the principal the gateway forwarded, if any.
func FromHeaders(h http.Header) (Principal, bool) {
	p := Principal{UserID: h.Get(HeaderUserID), Role: h.Get(HeaderRole), Email: h.Get(HeaderEmail)}
	return p, p.UserID != "" && p.Role != ""
}

// Strip removes every identity header, whoever set it.
func Strip(h http.Header) {
	h.Del(HeaderUserID)
	h.Del(HeaderRole)
	h.Del(HeaderEmail)
	h.Del(HeaderClientAddress)
}

// Set replaces the identity headers with p's.
func Set(h http.Header, p Principal) {
	Strip(h)
	h.Set(HeaderUserID, p.UserID)
	h.Set(HeaderRole, p.Role)
	if p.Email != "" {
		h.Set(HeaderEmail, p.Email)
	}
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal stored by WithPrincipal.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
