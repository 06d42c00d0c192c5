package server

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"mortgaged/internal/pii"
	"mortgaged/mortgage"
	"mortgaged/partners"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bundles  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mortgaged_http_requests_total", Help: "HTTP requests by route and status."},
			[]string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mortgaged_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}},
			[]string{"route", "method"}),
		bundles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mortgaged_bundles_decided_total", Help: "Bundles decided, by type and status."},
			[]string{"type", "status"}),
	}
	reg.MustRegister(m.requests, m.duration, m.bundles)
	return m
}

// calendarGauge is 1 while next year's holiday notice should be loaded and
// is not (from 1 December, mortgage.Service.CalendarYearMissing), 0
// otherwise, and NaN when the calendar could not be read. It is read at each
// scrape; the service caches the calendar for 10 s.
func calendarGauge(svc *mortgage.Service) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mortgaged_calendar_next_year_missing",
		Help: "1 from 1 December while next year's holiday notice is not loaded, else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		year, err := svc.CalendarYearMissing(ctx)
		switch {
		case err != nil:
			return math.NaN()
		case year != 0:
			return 1
		}
		return 0
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (deadlines for
// long uploads, flushing).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

type ctxKey int

const (
	partnerKey ctxKey = iota
	formatKey
	logAttrsKey
	bodyKey
)

// logAttrs collects attributes handlers add to the one request log line.
type logAttrs struct{ attrs []slog.Attr }

// Every string is clipped: whatever a handler adds may have come from the
// request.
func addLog(ctx context.Context, attrs ...slog.Attr) {
	if la, ok := ctx.Value(logAttrsKey).(*logAttrs); ok {
		for _, a := range attrs {
			if a.Value.Kind() == slog.KindString {
				a.Value = slog.StringValue(pii.Clip(a.Value.String(), maxLogValue))
			}
			la.attrs = append(la.attrs, a)
		}
	}
}

// maxLogValue is the most runes of one logged value; a reference is clipped
// shorter (maxLogReference).
const (
	maxLogValue     = 256
	maxLogReference = 64
)

// observe logs one JSON line per request and records metrics by route
// template, never by raw path (ids would explode the label space).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		la := &logAttrs{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), logAttrsKey, la)))
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil {
			if t, err := cr.GetPathTemplate(); err == nil {
				route = t
			}
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
		s.metrics.duration.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
		if route == "/metrics" || route == "/healthz" || route == "/readyz" {
			return // probes would drown the log
		}
		attrs := append([]slog.Attr{
			slog.String("method", pii.Clip(r.Method, 16)), slog.String("route", route), slog.Int("status", rec.status),
			slog.Float64("ms", float64(elapsed.Microseconds())/1000),
		}, la.attrs...)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.error(w, r, errors.New("panic: "+pii.Clip(strings.TrimSpace(slog.AnyValue(v).String()), 1024)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func partnerFrom(ctx context.Context) partners.Partner {
	p, _ := ctx.Value(partnerKey).(partners.Partner)
	return p
}
