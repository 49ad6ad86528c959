package adapters_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/gateway/adapters"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/requestid"
	"github.com/daprshop/platform/sidecar"
)

// The fake sidecar records what the gateway sent it.
func TestInvokerRewritesForServiceInvocation(t *testing.T) {
	var got *http.Request
	var body string
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Header().Set(requestid.Header, "echoed-by-service")
		w.WriteHeader(http.StatusCreated)
	}))
	defer sidecar.Close()
	inv, err := adapters.NewInvoker(sidecarAt(t, sidecar.URL, "the-gateways-token"), time.Second)
	if err != nil {
		t.Fatal(err)
	}

	req := httptest.NewRequest(http.MethodPost, "/api/users/a%2Fb?x=1&y=2", strings.NewReader(`{"k":"v"}`))
	req.Header.Set("Authorization", "Bearer secret-token")
	req.Header.Set("dapr-app-id", "payment")        // would redirect the call
	req.Header.Set("Dapr-Api-Token", "guess")       // would claim a sidecar token
	req.Header.Set(identity.HeaderUserID, "forged") // would impersonate
	req.Header.Set(identity.HeaderRole, "admin")
	ctx := identity.WithPrincipal(requestid.WithID(req.Context(), "req-1"), identity.Principal{UserID: "u1", Role: "customer"})
	rec := httptest.NewRecorder()
	inv.To("user").ServeHTTP(rec, req.WithContext(ctx))

	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d", rec.Code)
	}
	if got.URL.EscapedPath() != "/v1.0/invoke/user/method/users/a%2Fb" || got.URL.RawQuery != "x=1&y=2" {
		t.Errorf("upstream URL %s?%s", got.URL.EscapedPath(), got.URL.RawQuery)
	}
	if body != `{"k":"v"}` {
		t.Errorf("body %q", body)
	}
	for header, want := range map[string]string{
		"Authorization": "", "Dapr-App-Id": "", "Dapr-Api-Token": "the-gateways-token",
		identity.HeaderUserID: "u1", identity.HeaderRole: "customer",
		requestid.Header: "req-1", "X-Forwarded-Prefix": "/api",
	} {
		if v := got.Header.Get(header); v != want {
			t.Errorf("upstream %s = %q, want %q", header, v, want)
		}
	}
	if rec.Header().Get(requestid.Header) != "" {
		t.Error("the service's own X-Request-ID echo reached the client")
	}
}

func TestInvokerErrors(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	for _, tt := range []struct {
		name, url string
		want      int
	}{
		{"upstream too slow", slow.URL, http.StatusGatewayTimeout},
		{"sidecar unreachable", dead.URL, http.StatusBadGateway},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv, _ := adapters.NewInvoker(sidecarAt(t, tt.url, ""), 200*time.Millisecond)
			rec := httptest.NewRecorder()
			inv.To("user").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/users/me", nil))
			if rec.Code != tt.want || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("got %d %s, want %d problem+json", rec.Code, rec.Header().Get("Content-Type"), tt.want)
			}
		})
	}
}

// sidecarAt is the sidecar config of a test server standing in for daprd.
func sidecarAt(t *testing.T, rawURL, apiToken string) sidecar.Config {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	return sidecar.Config{Host: u.Hostname(), HTTPPort: port, APIToken: apiToken}
}
