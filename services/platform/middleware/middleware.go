// Package middleware holds the HTTP middleware every service stacks in the
// same order: request ID, request-scoped logger, panic recovery, access log
// and Prometheus metrics.
package middleware

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/requestid"
	"github.com/daprshop/platform/tracecontext"
)

// Observe wraps a whole router (so 404s and 405s are logged and counted too)
// with request IDs, a request-scoped logger, panic recovery, the access log
// and metrics. Register RecordRoute on the mux router so that logs and
// metrics carry the route template instead of the raw path.
func Observe(base *zap.Logger, m *HTTPMetrics, next http.Handler) http.Handler {
	return requestid.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestid.FromContext(r.Context())
		fields := []zap.Field{zap.String("request_id", id)}
		ctx := tracecontext.With(r.Context(), r.Header.Get(tracecontext.Header))
		if trace := tracecontext.TraceID(ctx); trace != "" {
			fields = append(fields, zap.String("trace_id", trace))
		}
		log := base.With(fields...)
		route := &routeHolder{template: "unmatched"}
		ctx = logging.WithLogger(ctx, log)
		ctx = context.WithValue(ctx, routeKey{}, route)

		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				log.Error("panic in handler", zap.Any("panic", rec), zap.Stack("stack"))
				if !rw.wrote {
					problem.Write(rw, r, id, problem.New(http.StatusInternalServerError, "unexpected error"))
				}
			}
			elapsed := time.Since(start)
			m.observe(r.Method, route.template, rw.status, elapsed)
			level := zap.InfoLevel
			if quiet[route.template] && rw.status < 500 {
				level = zap.DebugLevel // probes and scrapes every few seconds would drown the log
			}
			log.Log(level, "request",
				zap.String("method", r.Method),
				zap.String("path", r.URL.Path),
				zap.String("route", route.template),
				zap.Int("status", rw.status),
				zap.Int64("bytes", rw.bytes),
				zap.Duration("duration", elapsed),
				zap.String("remote", r.RemoteAddr),
			)
		}()
		next.ServeHTTP(rw, r.WithContext(ctx))
	}))
}

// quiet are the routes polled by probes and scrapers.
var quiet = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

type routeKey struct{}

type routeHolder struct{ template string }

// RecordRoute is a mux middleware (router.Use) that tells Observe which route
// template matched. Without it logs and metrics say "unmatched".
func RecordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := r.Context().Value(routeKey{}).(*routeHolder); ok {
			if route := mux.CurrentRoute(r); route != nil {
				if t, err := route.GetPathTemplate(); err == nil {
					h.template = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// recorder remembers the status and size of a response. It forwards Flush so
// streaming responses through the gateway still stream.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
		r.wrote = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
