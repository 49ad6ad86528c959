package ports

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/problem"
)

// Limit allows Requests per Window to one key.
type Limit struct {
	Requests int
	Window   time.Duration
}

func (l Limit) String() string { return fmt.Sprintf("%d/%s", l.Requests, l.Window) }

// Decision is a limiter's answer for one request.
type Decision struct {
	Allowed    bool
	Remaining  int
	RetryAfter time.Duration // until the next request is allowed, when refused
	Reset      time.Duration // until the key's quota is whole again
}

// RateLimiter counts requests per key in a store every gateway replica shares.
type RateLimiter interface {
	Allow(ctx context.Context, key string, l Limit) (Decision, error)
}

// GlobalGroup names the global limit in settings, headers and stats.
const GlobalGroup = "global"

// FailMode says what a route does when the limiter's store cannot answer.
type FailMode int

const (
	// FailOpen serves the request unlimited (reads, and writes that need a
	// token anyway): an outage of the counters must not take the shop down.
	FailOpen FailMode = iota
	// FailClosed refuses with 503 (logins and sign-ups): unlimited password
	// guessing is worse than a short refusal.
	FailClosed
)

// limit counts every request to next against the global limit and the
// group's, answering 429 when either is spent. Behind Authenticator.Require
// the key is the user; elsewhere it is the client address.
func (e *Edge) limit(group string, mode FailMode, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := e.policy.Load()
		key := limitKey(r)
		checks := []struct {
			name  string
			limit Limit
		}{{GlobalGroup, p.Global}, {group, p.Groups[group].Limit}}
		var policies, states []string
		var retry time.Duration
		refused := false
		for _, c := range checks {
			if c.limit.Requests <= 0 {
				continue // no limit configured for this group
			}
			d, err := e.allow(r.Context(), c.name+":"+key, c.limit)
			if err != nil {
				e.stats.limiterError()
				log := logging.FromContext(r.Context()).With(zap.String("limit", c.name), zap.Error(err))
				if mode == FailClosed {
					log.Warn("rate limiter store unreachable: refusing a credential request")
					w.Header().Set("Retry-After", "5")
					httpapi.WriteError(w, r, problem.New(http.StatusServiceUnavailable, "the rate limiter is unavailable; retry shortly"))
					return
				}
				log.Warn("rate limiter store unreachable: serving unlimited")
				continue
			}
			policies = append(policies, fmt.Sprintf("%q;q=%d;w=%d", c.name, c.limit.Requests, seconds(c.limit.Window)))
			states = append(states, fmt.Sprintf("%q;r=%d;t=%d", c.name, d.Remaining, seconds(d.Reset)))
			if !d.Allowed {
				refused = true
				retry = max(retry, d.RetryAfter)
			}
		}
		if len(policies) > 0 {
			w.Header().Set("RateLimit-Policy", strings.Join(policies, ", "))
			w.Header().Set("RateLimit", strings.Join(states, ", "))
		}
		if refused {
			e.stats.limited(group)
			w.Header().Set("Retry-After", strconv.Itoa(max(1, seconds(retry))))
			httpapi.WriteError(w, r, problem.New(http.StatusTooManyRequests,
				"rate limit reached for "+group+"; retry after "+w.Header().Get("Retry-After")+" s"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (e *Edge) allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, e.storeTimeout)
	defer cancel()
	return e.store.Allow(ctx, key, limit)
}

// limitKey is the authenticated user, or else the address the request came
// from (the TCP peer: the gateway is the first hop it trusts).
func limitKey(r *http.Request) string {
	if p, ok := identity.FromContext(r.Context()); ok {
		return "user:" + p.UserID
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}

// seconds rounds d up to whole seconds, as the headers carry them.
func seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
