// Package sidecar is how a service finds and talks to its Dapr sidecar: the
// ports from the environment (set by the Dapr CLI, the Kubernetes injector and
// our runner), a non-blocking go-sdk client, a readiness check, and the check
// that calls into the app really come from the sidecar.
package sidecar

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/requestid"
)

// Config locates the sidecar. Embed it in a service's config struct.
type Config struct {
	Host     string `env:"DAPR_HOST" default:"127.0.0.1"`
	HTTPPort int    `env:"DAPR_HTTP_PORT" default:"3500" validate:"min=1,max=65535"`
	GRPCPort int    `env:"DAPR_GRPC_PORT" default:"50001" validate:"min=1,max=65535"`
	// AppToken, when set, is the token the sidecar presents on every call to the
	// app (daprd reads the same APP_API_TOKEN variable); calls without it are refused.
	AppToken string `env:"APP_API_TOKEN" secret:"true"`
	// APIToken, when set, is the token the app presents on every call to its
	// sidecar's API (daprd reads the same DAPR_API_TOKEN variable and refuses
	// calls without it): no other local process can use the sidecar.
	APIToken string `env:"DAPR_API_TOKEN" secret:"true"`
}

// HTTPBase is the sidecar's HTTP API root, e.g. http://127.0.0.1:3500.
func (c Config) HTTPBase() string {
	return "http://" + net.JoinHostPort(c.Host, strconv.Itoa(c.HTTPPort))
}

// Dial returns a go-sdk client for the sidecar's gRPC API. It does not wait
// for the sidecar: the app starts serving (so the sidecar's app health check
// passes) while the sidecar is still starting, and calls fail until it is up.
// Every call on the connection carries the API token, also those of clients
// built on it (the workflow client uses the connection directly).
func Dial(c Config) (dapr.Client, error) {
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.GRPCPort))
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if c.APIToken != "" {
		opts = append(opts, grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
			return invoker(metadata.AppendToOutgoingContext(ctx, TokenHeader, c.APIToken), method, req, reply, cc, o...)
		}), grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, o ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(metadata.AppendToOutgoingContext(ctx, TokenHeader, c.APIToken), desc, cc, method, o...)
		}))
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dapr sidecar at %s: %w", addr, err)
	}
	return dapr.NewClientWithConnection(conn), nil
}

// Authorize adds the API token to a request for the sidecar's HTTP API.
func (c Config) Authorize(h http.Header) {
	if c.APIToken != "" {
		h.Set(TokenHeader, c.APIToken)
	}
}

// Check is the readiness check for the sidecar: its outbound API is up (the
// plain /v1.0/healthz waits for the app to be healthy, which would be circular).
func Check(c Config, client *http.Client) health.Check {
	url := c.HTTPBase() + "/v1.0/healthz/outbound"
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("dapr sidecar unreachable: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("dapr sidecar not ready: %s", resp.Status)
		}
		return nil
	}
}

// TokenHeader carries a token both ways: daprd presents APP_API_TOKEN to the
// app in it, and the app presents DAPR_API_TOKEN to daprd in it.
const TokenHeader = "dapr-api-token"

// RequireAppToken refuses calls that do not carry the sidecar's app token, so
// that only the sidecar (and so only callers its access policy admits) can
// reach the app. Probes and metrics stay open for the kubelet and Prometheus.
// With an empty token it only returns next.
func RequireAppToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			next.ServeHTTP(w, r)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(TokenHeader)), want) != 1 {
			problem.Write(w, r, requestid.FromContext(r.Context()),
				problem.New(http.StatusUnauthorized, "calls to this service must come through its Dapr sidecar"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CallerHeader is set by the calling app's sidecar to the caller's app ID
// on every service invocation.
const CallerHeader = "dapr-caller-app-id"

// OnlyCallers admits service invocations from the listed app IDs and
// refuses everything else with 403. The ID is the one the calling sidecar
// set; the gateway drops dapr-* headers from clients, and without mTLS a
// process on the host that reaches a sidecar could still claim any ID (see
// README, "Known gaps").
func OnlyCallers(apps []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(apps, r.Header.Get(CallerHeader)) {
			problem.Write(w, r, requestid.FromContext(r.Context()),
				problem.New(http.StatusForbidden, "this API is open to "+strings.Join(apps, ", ")+" only"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
