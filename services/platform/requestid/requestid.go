// Package requestid gives every request an ID (X-Request-ID), keeps it in the
// context and copies it onto outbound calls so one ID follows a request
// through the gateway, the sidecars and the services.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// Header is the HTTP header that carries the request ID.
const Header = "X-Request-ID"

type ctxKey struct{}

// Middleware takes the caller's X-Request-ID when it is sane, otherwise makes
// one, stores it in the context and echoes it in the response.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !valid(id) {
			id = New()
			r.Header.Set(Header, id)
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(WithID(r.Context(), id)))
	})
}

// New returns a random 128-bit ID in hex.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WithID returns ctx carrying id.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the request ID in ctx, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Inject copies the request ID in ctx onto an outbound request's headers.
func Inject(ctx context.Context, h http.Header) {
	if id := FromContext(ctx); id != "" {
		h.Set(Header, id)
	}
}

// valid accepts IDs a client or proxy may send: short, printable ASCII, so
// they are safe to log and to echo in a header.
func valid(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}
