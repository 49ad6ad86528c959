package ports

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/cors"
	"go.uber.org/zap"

	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/problem"
)

// Edge is what the gateway does to every request before a service sees it:
// CORS, body-size limits, rate limits and upstream deadlines, under a
// Policy that can be replaced while serving, and the statistics of it all.
type Edge struct {
	store        RateLimiter
	storeTimeout time.Duration
	policy       atomic.Pointer[Policy]
	stats        *Stats
	cache        *readCache
	log          *zap.Logger
}

// NewEdge applies p, counting rate limits in store (each count may take at
// most storeTimeout).
func NewEdge(p Policy, store RateLimiter, storeTimeout time.Duration, log *zap.Logger) *Edge {
	e := &Edge{store: store, storeTimeout: storeTimeout, stats: NewStats(), cache: newReadCache(), log: log}
	e.SetPolicy(p)
	return e
}

// SetPolicy puts p in force from the next request on.
func (e *Edge) SetPolicy(p Policy) {
	e.policy.Store(&p)
	e.log.Info("edge policy in force", zap.String("version", p.Version), zap.Stringer("global", p.Global),
		zap.Any("groups", p.Groups), zap.Strings("cors_origins", p.CORSOrigins), zap.Any("features_off", p.Off),
		zap.Duration("cache_ttl", p.CacheTTL))
}

// Policy returns the policy in force.
func (e *Edge) Policy() Policy { return *e.policy.Load() }

// Stats serves GET /gateway/stats.
func (e *Edge) Stats() http.Handler { return e.stats.Handler(e.Policy, e.cache.view) }

// route wraps the handler of rt: statistics outermost (so refusals count),
// then the body limit, then (in the handler the route table builds) the
// token check, the rate limit and the upstream deadline.
func (e *Edge) route(rt Route, next http.Handler) http.Handler {
	h := e.bodyLimit(rt.Group, next)
	if rt.Feature != "" {
		h = e.feature(rt.Feature, h)
	}
	return e.stats.track(rt, h)
}

// feature answers 503 while the feature is switched off.
func (e *Edge) feature(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.policy.Load().Off[name] {
			w.Header().Set("Retry-After", "60")
			httpapi.WriteError(w, r, problem.New(http.StatusServiceUnavailable, name+" is switched off for now; retry later"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bodyLimit refuses a declared body over the group's limit with 413 before
// reading it, and cuts an undeclared (chunked) one at the limit.
func (e *Edge) bodyLimit(group string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := e.policy.Load().Groups[group].MaxBody
		if limit > 0 {
			if r.ContentLength > limit {
				httpapi.WriteError(w, r, problem.New(http.StatusRequestEntityTooLarge,
					"the body is larger than this route accepts ("+strconv.FormatInt(limit, 10)+" bytes)"))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// deadline bounds the upstream call by the group's timeout.
func (e *Edge) deadline(group string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := e.policy.Load().Groups[group].Timeout; d > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// CORS answers preflights itself (no service sees them) and marks responses
// readable by the origins of the policy in force, with credentials.
func (e *Edge) CORS(next http.Handler) http.Handler {
	c := cors.New(cors.Options{
		AllowOriginFunc: func(origin string) bool {
			return slices.Contains(e.policy.Load().CORSOrigins, strings.ToLower(origin))
		},
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"},
		ExposedHeaders:   []string{"Location", "ETag", "Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-ID", "Idempotent-Replayed"},
		AllowCredentials: true,
		MaxAge:           600,
	})
	return c.Handler(next)
}
