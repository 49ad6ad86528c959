// Package ports is the gateway's public HTTP interface: the route table and
// the authentication in front of it.
package ports

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/token"
)

// TokenVerifier checks a bearer token and returns its claims.
type TokenVerifier interface {
	Verify(raw string) (*token.Claims, error)
}

// SessionChecker returns an account's current session version, and false
// once the account is deleted.
type SessionChecker interface {
	Current(ctx context.Context, userID string) (version int64, exists bool, err error)
}

// Authenticator turns a valid bearer token of a live session into the
// request's principal.
type Authenticator struct {
	tokens   TokenVerifier
	sessions SessionChecker
}

// NewAuthenticator verifies tokens with v and their sessions with s.
func NewAuthenticator(v TokenVerifier, s SessionChecker) *Authenticator {
	return &Authenticator{tokens: v, sessions: s}
}

// Require lets a request through only with a valid token (401 otherwise).
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			unauthorized(w, r, `Bearer realm="daprshop"`, "send an access token: Authorization: Bearer <token> (POST /api/users/login)")
			return
		}
		claims, err := a.tokens.Verify(raw)
		if err != nil {
			if !errors.Is(err, token.ErrInvalid) {
				// The key is not loaded yet: not the client's fault.
				httpapi.WriteError(w, r, problem.New(http.StatusServiceUnavailable, "the gateway is starting; retry shortly"))
				return
			}
			logging.FromContext(r.Context()).Info("token refused", zap.Error(err))
			unauthorized(w, r, `Bearer realm="daprshop", error="invalid_token"`, "the access token is invalid or expired; log in again")
			return
		}
		// A well-signed token may still speak for a session that has ended
		// (logout, a change of role, password or email, a deleted account).
		version, exists, err := a.sessions.Current(r.Context(), claims.Subject)
		if err != nil {
			logging.FromContext(r.Context()).Warn("session check failed", zap.String("user_id", claims.Subject), zap.Error(err))
			httpapi.WriteError(w, r, problem.New(http.StatusServiceUnavailable, "could not check the session; retry shortly"))
			return
		}
		if !exists || version != claims.SessionVersion {
			logging.FromContext(r.Context()).Info("token of an ended session refused", zap.String("user_id", claims.Subject),
				zap.Int64("token_session", claims.SessionVersion), zap.Int64("current_session", version), zap.Bool("account_exists", exists))
			unauthorized(w, r, `Bearer realm="daprshop", error="invalid_token"`, "the session has ended (logout, or a change of role, password or email); log in again")
			return
		}
		p := identity.Principal{UserID: claims.Subject, Role: claims.Role, Email: claims.Email}
		next.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), p)))
	})
}

// RequireRole lets through only principals with role (403 otherwise). Use it inside Require.
func RequireRole(role string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := identity.FromContext(r.Context()); !ok || p.Role != role {
			httpapi.WriteError(w, r, problem.New(http.StatusForbidden, "this needs the "+role+" role"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func unauthorized(w http.ResponseWriter, r *http.Request, challenge, detail string) {
	w.Header().Set("WWW-Authenticate", challenge)
	httpapi.WriteError(w, r, problem.New(http.StatusUnauthorized, detail))
}
