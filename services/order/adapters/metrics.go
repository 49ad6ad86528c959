package adapters

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the checkout's business metrics in Prometheus form (the
// dashboard in deploy/grafana reads them).
type Metrics struct {
	placed, paid, shipped prometheus.Counter
	cancelled             *prometheus.CounterVec
	timeToShip            prometheus.Histogram
}

// NewMetrics creates the metrics, every cause of cancellation at zero;
// Collectors lists them for the registry.
func NewMetrics(causes []string) *Metrics {
	m := &Metrics{
		placed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "checkout_orders_placed_total", Help: "Orders placed (not counting replays of an Idempotency-Key)."}),
		paid:    prometheus.NewCounter(prometheus.CounterOpts{Name: "checkout_orders_paid_total", Help: "Orders whose payment succeeded."}),
		shipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "checkout_orders_shipped_total", Help: "Orders shipped."}),
		cancelled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "checkout_orders_cancelled_total",
			Help: "Orders cancelled, by cause: the step that stopped the checkout (with -failed when it failed), or requested."}, []string{"cause"}),
		timeToShip: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "checkout_time_to_ship_seconds",
			Help:    "From order placed to shipped, fulfilment window included.",
			Buckets: []float64{.25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600}}),
	}
	for _, c := range causes {
		m.cancelled.WithLabelValues(c)
	}
	return m
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.placed, m.paid, m.shipped, m.cancelled, m.timeToShip}
}

func (m *Metrics) Placed()                { m.placed.Inc() }
func (m *Metrics) Paid()                  { m.paid.Inc() }
func (m *Metrics) Cancelled(cause string) { m.cancelled.WithLabelValues(cause).Inc() }

func (m *Metrics) Shipped(placedAt, shippedAt time.Time) {
	m.shipped.Inc()
	m.timeToShip.Observe(shippedAt.Sub(placedAt).Seconds())
}
