package ports_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/daprshop/gateway/ports"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/token"
)

// echo stands in for the upstream: it reports which app was asked and the
// identity the gateway attached.
type echo struct{}

func (echo) To(appID string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.FromContext(r.Context())
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"app": appID, "user": p.UserID, "role": p.Role})
	})
}

// sessions stands in for the user service's session versions: u1 is at
// 0, u9 at 0, u5 logged out (at 1), u6 deleted.
type sessions struct{}

func (sessions) Current(_ context.Context, id string) (int64, bool, error) {
	switch id {
	case "u5":
		return 1, true, nil
	case "u6":
		return 0, false, nil
	case "down":
		return 0, false, errors.New("user service unavailable")
	}
	return 0, true, nil
}

func TestRoutesAndAuthentication(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	issuer := token.NewIssuer(priv, "iss", "aud", time.Hour)
	valid, _, _ := issuer.Issue(token.Subject{ID: "u1", Role: "customer", Email: "a@b.co"})
	admin, _, _ := issuer.Issue(token.Subject{ID: "u9", Role: "admin", Email: "root@b.co"})
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"sub": "u1", "role": "customer", "iss": "iss", "aud": "aud", "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix(),
	}).SignedString(priv)
	forged, _, _ := token.NewIssuer(otherPriv, "iss", "aud", time.Hour).Issue(token.Subject{ID: "u1", Role: "admin"})
	loggedOut, _, _ := issuer.Issue(token.Subject{ID: "u5", Role: "admin"})
	deleted, _, _ := issuer.Issue(token.Subject{ID: "u6", Role: "customer"})
	unchecked, _, _ := issuer.Issue(token.Subject{ID: "down", Role: "customer"})
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","role":"admin","iss":"iss","aud":"aud","exp":9999999999}`)) + "."

	h := gateway(t, ports.NewAuthenticator(token.NewVerifier(pub, "iss", "aud"), sessions{}), newCounter(), "")

	tests := []struct {
		name, method, path, auth string
		status                   int
		user                     string
	}{
		{"register is public", "POST", "/api/users/register", "", 200, ""},
		{"login is public", "POST", "/api/users/login", "", 200, ""},
		{"me needs a token", "GET", "/api/users/me", "", 401, ""},
		{"me with a valid token", "GET", "/api/users/me", "Bearer " + valid, 200, "u1"},
		{"scheme is case-insensitive", "GET", "/api/users/me", "bearer " + valid, 200, "u1"},
		{"basic auth is not a token", "GET", "/api/users/me", "Basic dTpw", 401, ""},
		{"expired", "GET", "/api/users/me", "Bearer " + expired, 401, ""},
		{"signed by another key", "GET", "/api/users/u1", "Bearer " + forged, 401, ""},
		{"alg none", "GET", "/api/users/u1", "Bearer " + none, 401, ""},
		{"garbage", "DELETE", "/api/users/u1", "Bearer abc.def.ghi", 401, ""},
		{"a session that has ended", "GET", "/api/users/me", "Bearer " + loggedOut, 401, ""},
		{"a deleted account", "GET", "/api/users/me", "Bearer " + deleted, 401, ""},
		{"session check unavailable", "GET", "/api/users/me", "Bearer " + unchecked, 503, ""},
		{"refresh is public", "POST", "/api/users/refresh", "", 200, ""},
		{"logout needs a token", "POST", "/api/users/logout", "", 401, ""},
		{"logout", "POST", "/api/users/logout", "Bearer " + valid, 200, "u1"},
		{"session versions are not public", "GET", "/api/users/u1/session", "Bearer " + admin, 404, ""},
		{"unknown route", "GET", "/api/nothing", "", 404, ""},
		{"browse products anonymously", "GET", "/api/products", "", 200, ""},
		{"read a product anonymously", "GET", "/api/products/p1", "", 200, ""},
		{"create a product without a token", "POST", "/api/products", "", 401, ""},
		{"create a product as a customer", "POST", "/api/products", "Bearer " + valid, 403, ""},
		{"delete a product as a customer", "DELETE", "/api/products/p1", "Bearer " + valid, 403, ""},
		{"create a product as an admin", "POST", "/api/products", "Bearer " + admin, 200, "u9"},
		{"change a product as an admin", "PUT", "/api/products/p1", "Bearer " + admin, 200, "u9"},
		{"inventory is not public", "POST", "/api/inventory/reservations", "Bearer " + admin, 404, ""},
		{"wrong method", "PATCH", "/api/users/me", "", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.status == 200 {
				var got map[string]string
				json.NewDecoder(rec.Body).Decode(&got)
				wantApp := "user"
				if strings.Contains(tt.path, "/products") {
					wantApp = "product"
				}
				if got["app"] != wantApp || got["user"] != tt.user {
					t.Errorf("forwarded %v", got)
				}
			}
		})
	}
}
