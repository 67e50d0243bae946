package server

import (
	"net/http"

	"github.com/allot-dev/allot/internal/store"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Request outcomes, the values of the "outcome" label.
const (
	outcomeOK              = "ok"
	outcomeUnauthenticated = "unauthenticated"
	outcomeDenied          = "denied"
	outcomeClientError     = "client_error"
	outcomeServerError     = "server_error"
)

// metrics holds the server's Prometheus collectors in a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// registerStore adds the store's group-commit counters: their ratio is the mean number of
// requests per write transaction.
func (m *metrics) registerStore(db *store.DB) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "allot_store_transactions_total",
			Help: "Write transactions the store's group-commit writers began.",
		}, func() float64 { return float64(db.WriteStats().Transactions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "allot_store_requests_total",
			Help: "Write requests (Update calls) run in those transactions.",
		}, func() float64 { return float64(db.WriteStats().Requests) }),
	)
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allot_requests_total",
			Help: "API requests by service, operation and outcome (ok, unauthenticated, denied, client_error, server_error).",
		}, []string{"service", "operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "allot_request_duration_seconds",
			Help:    "API request latency by service and operation, from the first byte read to the response written.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"service", "operation"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "allot_requests_in_flight",
			Help: "API requests being served now.",
		}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
