package middleware

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HTTPMetrics are the seed's request metrics: a latency histogram and a
// counter, labelled by method, route template and status.
type HTTPMetrics struct {
	registry *prometheus.Registry
	duration *prometheus.HistogramVec
	total    *prometheus.CounterVec
}

// NewHTTPMetrics registers the metrics, plus Go runtime and process metrics
// and a service's own (extra), in a registry of the service's own (no
// global state).
func NewHTTPMetrics(extra ...prometheus.Collector) *HTTPMetrics {
	reg := prometheus.NewRegistry()
	m := &HTTPMetrics{
		registry: reg,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Duration of HTTP requests in seconds.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "Total number of HTTP requests.",
		}, []string{"method", "route", "status"}),
	}
	reg.MustRegister(m.duration, m.total,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(extra...)
	return m
}

// Handler serves /metrics in the Prometheus text format.
func (m *HTTPMetrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *HTTPMetrics) observe(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER" // a client must not be able to mint label values
	}
	s := strconv.Itoa(status)
	m.duration.WithLabelValues(method, route, s).Observe(d.Seconds())
	m.total.WithLabelValues(method, route, s).Inc()
}
