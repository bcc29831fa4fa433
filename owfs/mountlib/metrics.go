package mountlib

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sys/unix"

	"github.com/owfuse/owfuse/owclient"
)

// metrics is a mount's Prometheus registry: owserver messages counted as
// they happen, everything else read from its owner at scrape time.
type metrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	mounted  atomic.Pointer[Mounted] // set once mounted
	srv      *http.Server
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "owfuse_owserver_messages_total",
			Help: "owserver requests by message type and outcome (ok, server_error, conn_error, timeout, protocol_error, canceled).",
		}, []string{"type", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "owfuse_owserver_request_seconds",
			Help:    "Time from sending an owserver request to its final reply, by message type.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"type"}),
	}
	m.reg.MustRegister(m.messages, m.latency, m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe is the client's OnMessage hook.
func (m *metrics) observe(t owclient.MsgType, outcome string, d time.Duration) {
	m.messages.WithLabelValues(t.String(), outcome).Inc()
	m.latency.WithLabelValues(t.String()).Observe(d.Seconds())
}

var (
	descHits   = prometheus.NewDesc("owfuse_cache_hits_total", "Answers served from owfuse's cache, by change class.", []string{"class"}, nil)
	descMisses = prometheus.NewDesc("owfuse_cache_misses_total", "Lookups the cache could not answer, by change class.", []string{"class"}, nil)
	descSize   = prometheus.NewDesc("owfuse_cache_entries", "Listings and values in the cache.", nil, nil)
	descPool   = prometheus.NewDesc("owfuse_pool_connections", "Connections to owserver, busy with a request or idle in the pool.", []string{"state"}, nil)
	descErrno  = prometheus.NewDesc("owfuse_fuse_errors_total", "Errors returned to the kernel, by errno.", []string{"errno"}, nil)
)

// Describe is part of prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHits, descMisses, descSize, descPool, descErrno} {
		ch <- d
	}
}

// Collect is part of prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	mt := m.mounted.Load()
	if mt == nil {
		return
	}
	st := mt.Cache.Stats()
	for class, n := range st.Hits.All() {
		ch <- prometheus.MustNewConstMetric(descHits, prometheus.CounterValue, float64(n), class)
	}
	for class, n := range st.Misses.All() {
		ch <- prometheus.MustNewConstMetric(descMisses, prometheus.CounterValue, float64(n), class)
	}
	ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(mt.Cache.Len()))
	busy, idle := mt.Client.PoolStats()
	ch <- prometheus.MustNewConstMetric(descPool, prometheus.GaugeValue, float64(busy), "busy")
	ch <- prometheus.MustNewConstMetric(descPool, prometheus.GaugeValue, float64(idle), "idle")
	for e, n := range mt.Root.ErrnoCounts() {
		name := unix.ErrnoName(e)
		if name == "" {
			name = strconv.Itoa(int(e))
		}
		ch <- prometheus.MustNewConstMetric(descErrno, prometheus.CounterValue, float64(n), name)
	}
}

// listen opens addr now, so that a taken port fails the mount before it
// is made, and serves /metrics on it.
func (m *metrics) listen(addr string, log *slog.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// The mount goes on without metrics; whoever scrapes
			// finds nothing, and the log says why.
			log.Error("metrics server stopped", "listen", addr, "err", err)
		}
	}()
	return nil
}

func (m *metrics) close() {
	if m != nil && m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		m.srv.Shutdown(ctx)
	}
}
