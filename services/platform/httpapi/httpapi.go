// Package httpapi assembles the HTTP surface every service shares: a gorilla/mux
// router whose 404 and 405 answers are problem+json, the /healthz, /readyz and
// /metrics endpoints, the observability middleware, and JSON and error writers.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/pprof"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/middleware"
	"github.com/daprshop/platform/pathid"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/requestid"
	"github.com/daprshop/platform/sidecar"
)

// NewRouter returns a mux router that records route templates for logs and
// metrics and answers unknown paths and methods with problem+json.
func NewRouter() *mux.Router {
	// Matched on the escaped path: an encoded slash in an ID stays inside
	// that ID (and is refused by the guard) instead of making new segments.
	// Paths are not cleaned either: gorilla/mux would answer /a/../b with a
	// redirect to /b; unclean, a dot segment is an ID the guard refuses
	// (or matches no route), and no request is steered to another path.
	r := mux.NewRouter().UseEncodedPath().SkipClean(true)
	r.Use(middleware.RecordRoute)
	// Every route variable is an ID: refuse anything else before handlers see it.
	r.Use(pathid.Guard(WriteError))
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		WriteError(w, req, problem.New(http.StatusNotFound, "no route for "+req.Method+" "+req.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		WriteError(w, req, problem.New(http.StatusMethodNotAllowed, req.Method+" is not allowed on "+req.URL.Path))
	})
	return r
}

// Options complete a service's handler.
type Options struct {
	Log     *zap.Logger
	Metrics *middleware.HTTPMetrics
	// Ready are the readiness checks behind /readyz.
	Ready health.Checks
	// AppToken, when set, must be presented by every caller except probes (see sidecar.RequireAppToken).
	AppToken string
	// SeparateAdmin leaves /readyz and /metrics off r, for AdminHandler to
	// serve on a port of their own (the gateway's public port must not
	// show them).
	SeparateAdmin bool
	// Profiling serves Go's pprof endpoints (/debug/pprof/) on the admin
	// port, the only place they may be: they expose the process's memory.
	Profiling bool
	// Edge, when set, wraps the router inside the observability middleware:
	// what must see requests no route matches (CORS preflights).
	Edge func(http.Handler) http.Handler
	// AdminRoutes adds service-specific operator endpoints to the admin port.
	AdminRoutes func(*mux.Router)
	// Collectors are a service's own metrics, served with the rest on /metrics.
	Collectors []prometheus.Collector
}

// Handler adds the operational endpoints to r and wraps it with the
// middleware stack. It is the http.Handler a service serves.
func Handler(r *mux.Router, o Options) http.Handler {
	r.HandleFunc("/healthz", health.Live).Methods(http.MethodGet)
	if !o.SeparateAdmin {
		r.Handle("/readyz", health.Ready(o.Ready)).Methods(http.MethodGet)
		r.Handle("/metrics", o.Metrics.Handler()).Methods(http.MethodGet)
	}
	var h http.Handler = r
	if o.Edge != nil {
		h = o.Edge(r)
	}
	return middleware.Observe(o.Log, o.Metrics, sidecar.RequireAppToken(o.AppToken, h))
}

// AdminHandler serves the operational endpoints alone: /healthz, /readyz
// and /metrics, for an admin port that only operators and probes reach.
func AdminHandler(o Options) http.Handler {
	r := NewRouter()
	r.HandleFunc("/healthz", health.Live).Methods(http.MethodGet)
	r.Handle("/readyz", health.Ready(o.Ready)).Methods(http.MethodGet)
	r.Handle("/metrics", o.Metrics.Handler()).Methods(http.MethodGet)
	if o.AdminRoutes != nil {
		o.AdminRoutes(r)
	}
	if o.Profiling {
		r.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		r.HandleFunc("/debug/pprof/profile", pprof.Profile)
		r.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		r.HandleFunc("/debug/pprof/trace", pprof.Trace)
		r.PathPrefix("/debug/pprof/").HandlerFunc(pprof.Index)
	}
	return r
}

// WriteJSON sends v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// RetryAfterUnavailable is the Retry-After, in seconds, of a 503 for a
// dependency that did not answer: about the cooldown of a store's breaker.
const RetryAfterUnavailable = "5"

// WriteError answers with err as problem+json. A *problem.Problem is sent as
// it is, an *invalid.Error as a 400 listing its fields; anything else is an unexpected failure: it is logged here, once, and
// the client gets a 500 that quotes the request ID but no internals.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	id := requestid.FromContext(r.Context())
	var p *problem.Problem
	if errors.As(err, &p) {
		problem.Write(w, r, id, p)
		return
	}
	// A call cancelled under the request (its caller's sidecar gave up
	// waiting, as when a workflow cannot start while the scheduler is
	// down) did not finish: retry, like an outage.
	if sidecar.Unavailable(err) || errors.Is(err, context.Canceled) {
		// Logged once here, as a warning: the outage is not this request's fault.
		logging.FromContext(r.Context()).Warn("a dependency did not answer; 503", zap.Error(err))
		w.Header().Set("Retry-After", RetryAfterUnavailable)
		problem.Write(w, r, id, problem.Typed(http.StatusServiceUnavailable, problem.TypeUnavailable,
			"a store or service this request needs is not answering; retry shortly"))
		return
	}
	var inv *invalid.Error
	if errors.As(err, &inv) {
		fields := make([]problem.FieldError, len(inv.Fields))
		for i, f := range inv.Fields {
			fields[i] = problem.FieldError{Field: f.Name, Message: f.Message}
		}
		problem.Write(w, r, id, problem.Invalid(fields))
		return
	}
	logging.FromContext(r.Context()).Error("request failed", zap.Error(err))
	problem.Write(w, r, id, problem.New(http.StatusInternalServerError, "unexpected error; quote the request ID to an operator"))
}
