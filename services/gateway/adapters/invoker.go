// Package adapters holds the gateway's ways out: the reverse proxy into
// Dapr service invocation and the token verifier fed from the secret store.
package adapters

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/requestid"
	"github.com/daprshop/platform/sidecar"
)

// Invoker forwards requests to services through the gateway's own Dapr
// sidecar (service invocation), so discovery, mTLS, retries, timeouts and
// circuit breakers are the sidecar's, declared in YAML.
type Invoker struct {
	sidecar  *url.URL
	apiToken sidecar.Config
	timeout  time.Duration
	proxy    *httputil.ReverseProxy
}

// NewInvoker proxies through the sidecar sc; each call may take at most timeout.
func NewInvoker(sc sidecar.Config, timeout time.Duration) (*Invoker, error) {
	u, err := url.Parse(sc.HTTPBase())
	if err != nil {
		return nil, err
	}
	inv := &Invoker{sidecar: u, apiToken: sc, timeout: timeout}
	inv.proxy = &httputil.ReverseProxy{
		Rewrite:        inv.rewrite,
		Transport:      redeliver{next: newTransport(), attempts: deliveryAttempts},
		ErrorHandler:   proxyError,
		ModifyResponse: answerOf,
	}
	return inv, nil
}

// newTransport keeps many idle connections to the one sidecar: every request
// goes there, and the default (2 per host) would make most of them dial anew.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // bounded by the per-request deadline instead
	}
}

type (
	appKey      struct{}
	incomingKey struct{} // the client's request: the proxy's error handler gets the outgoing one
)

// To returns a handler that forwards to appID: /api/<rest> becomes method <rest> of appID.
func (inv *Invoker) To(appID string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), inv.timeout)
		defer cancel()
		if err := replayable(r); err != nil {
			proxyError(w, r, err)
			return
		}
		ctx = context.WithValue(ctx, appKey{}, appID)
		inv.proxy.ServeHTTP(w, r.WithContext(context.WithValue(ctx, incomingKey{}, r)))
	})
}

func (inv *Invoker) rewrite(pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	appID, _ := in.Context().Value(appKey{}).(string)
	method := strings.TrimPrefix(in.URL.Path, "/api")
	rawMethod := strings.TrimPrefix(in.URL.EscapedPath(), "/api")
	prefix := "/v1.0/invoke/" + appID + "/method"

	out.URL.Scheme = inv.sidecar.Scheme
	out.URL.Host = inv.sidecar.Host
	out.URL.Path = prefix + method
	out.URL.RawPath = prefix + rawMethod
	out.URL.RawQuery = in.URL.RawQuery
	out.Host = ""
	pr.SetXForwarded()

	// Nothing the client sent may speak for the platform: the bearer token has
	// been verified and is replaced by identity headers, and a client's dapr-*
	// headers could otherwise redirect the call (dapr-app-id) or claim a token.
	out.Header.Del("Authorization")
	out.Header.Del("Cookie")
	for name := range out.Header {
		if strings.HasPrefix(strings.ToLower(name), "dapr-") {
			out.Header.Del(name)
		}
	}
	identity.Strip(out.Header)
	inv.apiToken.Authorize(out.Header)
	// Lets services write problem "instance" paths as the client sees them.
	out.Header.Set(problem.ForwardedPrefixHeader, "/api")
	if p, ok := identity.FromContext(in.Context()); ok {
		identity.Set(out.Header, p)
	}
	// The client's address as this gateway saw it, for per-address login
	// throttling; Strip removed whatever the client sent under that name.
	if host, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		out.Header.Set(identity.HeaderClientAddress, host)
	}
	requestid.Inject(in.Context(), out.Header)
}

// answerOf drops the service's echo of X-Request-ID (the gateway has
// already set the same header on the response), and turns the sidecar's
// own error (the service could not be reached: it is down, restarting, or
// its breaker is open) into proxyError's 503, so a client never sees
// Dapr's internals or a 500 for an outage.
func answerOf(resp *http.Response) error {
	resp.Header.Del(requestid.Header)
	if e, own := sidecarError(resp); own {
		resp.Body.Close()
		return e
	}
	return nil
}

func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if in, ok := r.Context().Value(incomingKey{}).(*http.Request); ok {
		r = in.WithContext(r.Context()) // problems name the path the client asked for
	}
	status, detail := http.StatusBadGateway, "the service behind this route is unavailable"
	var unreachable *daprError
	if errors.As(err, &unreachable) {
		httpapi.WriteError(w, r, err) // an outage: 503 with Retry-After, as every service answers one
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		status, detail = http.StatusGatewayTimeout, "the service behind this route did not answer in time"
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; nobody to answer
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		httpapi.WriteError(w, r, problem.New(http.StatusRequestEntityTooLarge, "the body is larger than this route accepts"))
		return
	}
	logging.FromContext(r.Context()).Warn("proxy error", zap.Error(err))
	httpapi.WriteError(w, r, problem.New(status, detail))
}
