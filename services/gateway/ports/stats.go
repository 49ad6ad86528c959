package ports

import (
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/daprshop/platform/httpapi"
)

// Stats counts what the gateway served, per route, for GET /gateway/stats.
// Routes and groups are registered before serving; counting is lock-free.
type Stats struct {
	started       time.Time
	routes        []*routeStats
	limitedBy     map[string]*atomic.Uint64
	limiterErrors atomic.Uint64
}

// NewStats returns empty statistics.
func NewStats() *Stats {
	return &Stats{started: time.Now(), limitedBy: map[string]*atomic.Uint64{GlobalGroup: {}}}
}

type routeStats struct {
	route                   Route
	requests, client, fault atomic.Uint64
	latency                 histogram
}

// track registers rt and counts the requests next serves.
func (s *Stats) track(rt Route, next http.Handler) http.Handler {
	rs := &routeStats{route: rt}
	s.routes = append(s.routes, rs)
	if s.limitedBy[rt.Group] == nil {
		s.limitedBy[rt.Group] = &atomic.Uint64{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		rs.requests.Add(1)
		switch {
		case sw.status >= 500:
			rs.fault.Add(1)
		case sw.status >= 400:
			rs.client.Add(1)
		}
		rs.latency.observe(time.Since(start))
	})
}

func (s *Stats) limited(group string) {
	if c := s.limitedBy[group]; c != nil {
		c.Add(1)
	}
}

func (s *Stats) limiterError() { s.limiterErrors.Add(1) }

// Handler serves the statistics with the policy p returns.
func (s *Stats) Handler(p func() Policy, cache func() cacheView) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pol := p()
		out := statsView{
			ConfigVersion: pol.Version,
			UptimeSeconds: int64(time.Since(s.started).Seconds()),
			CORSOrigins:   pol.CORSOrigins,
			FeaturesOff:   []string{},
		}
		for _, f := range Features {
			if pol.Off[f] {
				out.FeaturesOff = append(out.FeaturesOff, f)
			}
		}
		if out.CORSOrigins == nil {
			out.CORSOrigins = []string{}
		}
		for _, rs := range s.routes {
			g := pol.Groups[rs.route.Group]
			out.Routes = append(out.Routes, routeView{
				Route: rs.route.Path, Methods: rs.route.Methods, App: rs.route.App, Group: rs.route.Group,
				Requests: rs.requests.Load(), ClientErrors: rs.client.Load(), ServerErrors: rs.fault.Load(),
				LatencyMs: map[string]float64{
					"p50": rs.latency.quantile(0.50), "p90": rs.latency.quantile(0.90), "p99": rs.latency.quantile(0.99),
				},
				TimeoutMs: g.Timeout.Milliseconds(), MaxBodyBytes: g.MaxBody,
			})
		}
		out.Limiter.StoreErrors = s.limiterErrors.Load()
		out.Limiter.Limits = map[string]limitView{}
		for name, c := range s.limitedBy {
			l := pol.Global
			if name != GlobalGroup {
				l = pol.Groups[name].Limit
			}
			out.Limiter.Limits[name] = limitView{Requests: l.Requests, WindowSeconds: seconds(l.Window), Limited: c.Load()}
		}
		out.Cache = cache()
		out.Cache.TTL = pol.CacheTTL.String()
		out.Cache.ItemTTL = pol.ItemTTL.String()
		httpapi.WriteJSON(w, http.StatusOK, out)
	})
}

type statsView struct {
	ConfigVersion string      `json:"configVersion"`
	UptimeSeconds int64       `json:"uptimeSeconds"`
	Routes        []routeView `json:"routes"`
	Limiter       struct {
		StoreErrors uint64               `json:"storeErrors"`
		Limits      map[string]limitView `json:"limits"`
	} `json:"limiter"`
	CORSOrigins []string  `json:"corsOrigins"`
	FeaturesOff []string  `json:"featuresOff"`
	Cache       cacheView `json:"cache"`
}

type cacheView struct {
	TTL     string `json:"ttl"`
	ItemTTL string `json:"itemTtl"`
	Entries int    `json:"entries"`
	Hits    uint64 `json:"hits"`
	Misses  uint64 `json:"misses"`
	// Events are the change events received; Skipped, those older than
	// this process (a new consumer handed a backlog), which change nothing.
	Events  uint64 `json:"events"`
	Skipped uint64 `json:"skipped"`
}

type routeView struct {
	Route        string             `json:"route"`
	Methods      []string           `json:"methods"`
	App          string             `json:"app"`
	Group        string             `json:"group"`
	Requests     uint64             `json:"requests"`
	ClientErrors uint64             `json:"clientErrors"`
	ServerErrors uint64             `json:"serverErrors"`
	LatencyMs    map[string]float64 `json:"latencyMs"`
	TimeoutMs    int64              `json:"timeoutMs"`
	MaxBodyBytes int64              `json:"maxBodyBytes"`
}

type limitView struct {
	Requests      int    `json:"requests"`
	WindowSeconds int    `json:"windowSeconds"`
	Limited       uint64 `json:"limited"`
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// histogram buckets latencies on a log scale (each bucket 10% wider than
// the last, from 50 µs to about 2 minutes): quantiles within 10%, in fixed
// memory, without locks.
type histogram struct {
	counts [histBuckets]atomic.Uint64
}

const (
	histBuckets = 160
	histMin     = 50 * time.Microsecond
	histGrowth  = 1.1
)

func (h *histogram) observe(d time.Duration) {
	i := 0
	if d > histMin {
		i = min(histBuckets-1, int(math.Ceil(math.Log(float64(d)/float64(histMin))/math.Log(histGrowth))))
	}
	h.counts[i].Add(1)
}

// quantile returns the upper bound, in milliseconds, of the bucket holding
// quantile q; 0 when nothing was observed.
func (h *histogram) quantile(q float64) float64 {
	var total uint64
	var counts [histBuckets]uint64
	for i := range counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			upper := float64(histMin) * math.Pow(histGrowth, float64(i))
			return math.Round(upper/float64(time.Millisecond)*100) / 100
		}
	}
	return 0
}
