package ports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/middleware"
	"github.com/daprshop/platform/outbox"
	"github.com/daprshop/platform/token"
	"github.com/daprshop/platform/validate"
	"github.com/daprshop/user/adapters"
	"github.com/daprshop/user/app"
	"github.com/daprshop/user/ports"
)

type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error)    { return "hashed:" + pw, nil }
func (plainHasher) Verify(h, pw string) (bool, error) { return h == "hashed:"+pw, nil }

type issuer struct{}

func (issuer) Issue(sub token.Subject) (string, time.Time, error) {
	return "tok." + sub.ID + "." + sub.Role, time.Unix(2e9, 0).UTC(), nil
}

type discard struct{}

func (discard) Expect(context.Context, events.Event) (outbox.Ticket, error) {
	return outbox.Ticket{}, nil
}
func (discard) Announce(context.Context, outbox.Ticket, events.Event) {}
func (discard) Forget(context.Context, outbox.Ticket, error)          {}

// server is the user service's real HTTP stack over the in-memory store.
func server(t *testing.T) http.Handler {
	t.Helper()
	n := 0
	svc, err := app.NewService(app.Deps{
		Repo: adapters.NewMemoryUserStore(), Hasher: plainHasher{}, Tokens: issuer{}, Events: discard{},
		NewID:      func() string { n++; return []string{"", "u1", "u2", "u3", "u4"}[n] },
		Refresh:    adapters.NewMemoryRefreshTokens(),
		Throttle:   adapters.NewMemoryLoginThrottle(adapters.LoginPolicy{MaxFailures: 2, Window: time.Minute}),
		AdminEmail: "admin@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := httpapi.NewRouter()
	ports.NewHTTP(svc, validate.New(), []string{"gateway"}, nil).Register(r)
	return httpapi.Handler(r, httpapi.Options{Log: zap.NewNop(), Metrics: middleware.NewHTTPMetrics()})
}

type call struct {
	method, path, body string
	as                 *identity.Principal
	headers            []string // name, value, ...
	status             int
	contains           []string
	header             string // a response header that must be set
}

func (c call) do(t *testing.T, h http.Handler) map[string]any {
	t.Helper()
	r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	r.Header.Set("Content-Type", "application/json")
	if c.as != nil {
		identity.Set(r.Header, *c.as)
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		r.Header.Set(c.headers[i], c.headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != c.status {
		t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.path, rec.Code, c.status, rec.Body)
	}
	if c.header != "" && rec.Header().Get(c.header) == "" {
		t.Errorf("%s %s: no %s header", c.method, c.path, c.header)
	}
	for _, s := range c.contains {
		if !strings.Contains(rec.Body.String(), s) {
			t.Errorf("%s %s: body lacks %q: %s", c.method, c.path, s, rec.Body)
		}
	}
	if strings.Contains(rec.Body.String(), "hashed:") {
		t.Fatalf("%s %s: the password hash left the service: %s", c.method, c.path, rec.Body)
	}
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

func TestUserAPI(t *testing.T) {
	h := server(t)
	ann := &identity.Principal{UserID: "u1", Role: identity.RoleCustomer}
	bob := &identity.Principal{UserID: "u2", Role: identity.RoleCustomer}
	admin := &identity.Principal{UserID: "u3", Role: identity.RoleAdmin}
	steps := []struct {
		name string
		call call
	}{
		{"register", call{method: "POST", path: "/users/register", body: `{"email":"Ann@Example.com","name":"Ann","password":"correct-horse-42"}`,
			status: 201, contains: []string{`"id":"u1"`, `"email":"ann@example.com"`, `"role":"customer"`}}},
		{"register bob", call{method: "POST", path: "/users/register", body: `{"email":"bob@example.com","name":"Bob","password":"correct-horse-42"}`, status: 201}},
		{"the bootstrap admin's address", call{method: "POST", path: "/users/register", body: `{"email":"Admin@Example.com","name":"Root","password":"correct-horse-42"}`,
			status: 409}},
		{"a line break in the name", call{method: "POST", path: "/users/register", body: `{"email":"eve@example.com","name":"Eve\r\nBcc: all@example.com","password":"correct-horse-42"}`,
			status: 400, contains: []string{`"field":"name"`, "control characters"}}},
		{"duplicate email", call{method: "POST", path: "/users/register", body: `{"email":"ann@example.com","name":"Ann","password":"correct-horse-42"}`,
			status: 409, contains: []string{"already exists"}}},
		{"field errors", call{method: "POST", path: "/users/register", body: `{"email":"nope","name":"","password":"short"}`,
			status: 400, contains: []string{`"field":"email"`, `"field":"name"`, `"field":"password"`}}},
		{"password policy", call{method: "POST", path: "/users/register", body: `{"email":"c@example.com","name":"C","password":"onlyletters"}`,
			status: 400, contains: []string{`"field":"password"`, "letter and one digit"}}},
		{"login", call{method: "POST", path: "/users/login", body: `{"email":"ann@example.com","password":"correct-horse-42"}`,
			status: 200, contains: []string{`"accessToken":"tok.u1.customer"`, `"tokenType":"Bearer"`}}},
		{"login wrong password", call{method: "POST", path: "/users/login", body: `{"email":"ann@example.com","password":"wrong-horse-42"}`, status: 401}},
		{"refresh with nothing", call{method: "POST", path: "/users/refresh", body: `{}`, status: 400, contains: []string{`"field":"refreshToken"`}}},
		{"refresh unknown", call{method: "POST", path: "/users/refresh", body: `{"refreshToken":"nope"}`, status: 401, header: "WWW-Authenticate"}},
		{"session, not from the gateway", call{method: "GET", path: "/users/u2/session", status: 403}},
		{"session", call{method: "GET", path: "/users/u2/session", headers: []string{"dapr-caller-app-id", "gateway"}, status: 200,
			contains: []string{`"sessionVersion":0`}}},
		{"logout", call{method: "POST", path: "/users/logout", as: bob, status: 204}},
		{"session after logout", call{method: "GET", path: "/users/u2/session", headers: []string{"dapr-caller-app-id", "gateway"}, status: 200,
			contains: []string{`"sessionVersion":1`}}},
		{"logout without identity", call{method: "POST", path: "/users/logout", status: 401}},
		{"second wrong password", call{method: "POST", path: "/users/login", body: `{"email":"ann@example.com","password":"wrong-horse-42"}`, status: 401}},
		{"throttled", call{method: "POST", path: "/users/login", body: `{"email":"ann@example.com","password":"correct-horse-42"}`,
			status: 429, header: "Retry-After", contains: []string{"too many failed logins"}}},
		{"me without identity", call{method: "GET", path: "/users/me", status: 401}},
		{"me", call{method: "GET", path: "/users/me", as: ann, status: 200, contains: []string{`"id":"u1"`}}},
		{"read someone else", call{method: "GET", path: "/users/u2", as: ann, status: 403}},
		{"admin reads anyone", call{method: "GET", path: "/users/u2", as: admin, status: 200}},
		{"admin reads unknown", call{method: "GET", path: "/users/nope", as: admin, status: 404}},
		{"promote yourself", call{method: "PUT", path: "/users/u1", body: `{"role":"admin"}`, as: ann, status: 403}},
		{"unknown role", call{method: "PUT", path: "/users/u2", body: `{"role":"root"}`, as: admin, status: 400, contains: []string{"must be one of"}}},
		{"rename", call{method: "PUT", path: "/users/u1", body: `{"name":"Ann B"}`, as: ann, status: 200, contains: []string{`"name":"Ann B"`}}},
		{"delete someone else", call{method: "DELETE", path: "/users/u1", as: bob, status: 403}},
		{"delete yourself", call{method: "DELETE", path: "/users/u1", as: ann, status: 204}},
		{"gone", call{method: "GET", path: "/users/u1", as: admin, status: 404}},
		{"wrong method", call{method: "PATCH", path: "/users/u1", as: admin, status: 405}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) { s.call.do(t, h) })
	}
}
