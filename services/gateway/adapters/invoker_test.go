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

// The fake sidecar answers each call with the next scripted reply: Dapr's
// own error bodies for calls it could not deliver, or an app's answer.
func TestInvokerRedeliversOnlyWhatNeverReachedAnApp(t *testing.T) {
	daprError := func(msg string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"errorCode":"ERR_DIRECT_INVOKE","message":"failed to invoke, id: product, err: `+msg+`"}`)
		}
	}
	unhealthy := daprError("rpc error: code = Internal desc = app is not in a healthy state")
	refused := daprError(`rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused\"`)
	timedOut := daprError("rpc error: code = DeadlineExceeded desc = context deadline exceeded")
	appFailed := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"title":"boom","errorCode":"ERR_DIRECT_INVOKE","message":"app is not in a healthy state"}`)
	}
	ok := func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) }

	for _, tc := range []struct {
		name    string
		replies []func(http.ResponseWriter)
		calls   int
		status  int
	}{
		{"an unhealthy replica, then a healthy one", []func(http.ResponseWriter){unhealthy, ok}, 2, http.StatusCreated},
		{"a dead replica, then a healthy one", []func(http.ResponseWriter){refused, ok}, 2, http.StatusCreated},
		// The sidecar's own errors reach the client as a 503 problem with
		// Retry-After, not as Dapr's 500.
		{"at most six offers", []func(http.ResponseWriter){unhealthy, refused, unhealthy, refused, unhealthy, refused, ok}, 6, http.StatusServiceUnavailable},
		{"a timeout may have reached the app", []func(http.ResponseWriter){timedOut, ok}, 1, http.StatusServiceUnavailable},
		{"an app's own 500 is its answer", []func(http.ResponseWriter){appFailed, ok}, 1, http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bodies []string
			sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b))
				tc.replies[len(bodies)-1](w)
			}))
			defer sidecar.Close()
			inv, err := adapters.NewInvoker(sidecarAt(t, sidecar.URL, "token"), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			inv.To("product").ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/products", strings.NewReader(`{"name":"x"}`)))
			if rec.Code != tc.status || len(bodies) != tc.calls {
				t.Fatalf("status %d after %d calls, want %d after %d", rec.Code, len(bodies), tc.status, tc.calls)
			}
			if rec.Code == http.StatusServiceUnavailable && (rec.Header().Get("Retry-After") == "" ||
				rec.Header().Get("Content-Type") != "application/problem+json" || strings.Contains(rec.Body.String(), "ERR_")) {
				t.Errorf("503 answered as %v: %s", rec.Header(), rec.Body)
			}
			for i, b := range bodies {
				if b != `{"name":"x"}` {
					t.Errorf("call %d carried body %q", i+1, b)
				}
			}
			if tc.status == http.StatusInternalServerError && !strings.Contains(rec.Body.String(), "ERR_DIRECT_INVOKE") {
				t.Errorf("the last answer was not passed on: %s", rec.Body.String())
			}
		})
	}
}

// A problem written by the gateway names the path the client asked for,
// not the sidecar's invocation path.
func TestInvokerTimeoutNamesTheClientsPath(t *testing.T) {
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer sidecar.Close()
	inv, err := adapters.NewInvoker(sidecarAt(t, sidecar.URL, "token"), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	inv.To("product").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/products", nil))
	if rec.Code != http.StatusGatewayTimeout || !strings.Contains(rec.Body.String(), `"instance":"/api/products"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}
