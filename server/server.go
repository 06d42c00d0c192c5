package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/formats"
)

// DefaultMaxBodyBytes bounds a submission: ten 10 MB documents in base64
// would not fit, and should not arrive in one request.
const DefaultMaxBodyBytes = 32 << 20

// Server serves the partner API.
type Server struct {
	DB           *sqlx.DB
	Service      *mortgage.Service
	Registry     PartnerKeys
	MaxBodyBytes int64
	// MaxBatchBytes bounds a batch upload; 0 means DefaultMaxBatchBytes.
	MaxBatchBytes int64
	// Keys lists the published certificate-signing keys; nil reads them
	// from DB.
	Keys KeySource
	// PublicURL is where people reach this server (the printed
	// certificate's QR code); empty means DefaultPublicURL.
	PublicURL string
	// Formats are the wire formats partners speak; nil means the centre's
	// JSON only.
	Formats *formats.Set
	// Now is the clock that judges request timestamps.
	Now func() time.Time
	// BodyBudget bounds the bytes of request bodies held at once across
	// all partners; 0 means DefaultBodyBudget.
	BodyBudget int64
	// BodyTimeout is how long a partner's body may take to arrive once its
	// headers are authenticated; 0 means DefaultBodyTimeout.
	BodyTimeout time.Duration

	log     *slog.Logger
	router  *mux.Router
	metrics *metrics
	limiter *limiter
	budget  bodyBudget

	metricsHandler http.Handler
}

// PartnerKeys is what authentication asks of the partner registry
// (*partners.Registry): who owns a key and its secret, and each nonce used
// once. An interface, so the checks on a signature can be tested without a
// database.
type PartnerKeys interface {
	KeyOwner(ctx context.Context, keyID string) (partners.Signer, error)
	UseNonce(ctx context.Context, keyID, nonce string) (fresh bool, err error)
}

// New builds the server and its routes.
func New(db *sqlx.DB, svc *mortgage.Service, reg PartnerKeys, log *slog.Logger) *Server {
	s := &Server{DB: db, Service: svc, Registry: reg, MaxBodyBytes: DefaultMaxBodyBytes, Now: time.Now, log: log, router: mux.NewRouter()}
	s.limiter = newLimiter(func() time.Time { return s.now() })
	s.Formats, _ = formats.New(svc.Config.Location, nil) // the centre's JSON; cmd adds the bank dialects
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newMetrics(promReg)
	promReg.MustRegister(calendarGauge(svc))
	// Metrics are for the centre's monitoring, not the public: cmd serves
	// them on their own (loopback) address.
	s.metricsHandler = promhttp.HandlerFor(promReg, promhttp.HandlerOpts{})

	s.router.Use(s.recoverPanics, s.observe, s.refuseInvalidText)
	s.router.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	s.router.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	s.registerDocRoutes(s.router) // docs/openapi.json describes every route: server/openapi_test.go

	api := s.router.PathPrefix("/v1").Subrouter()
	api.Use(s.authenticatePartner)
	s.registerBundleRoutes(api)
	s.registerUnitRoutes(api)
	s.registerEventRoutes(api)
	s.registerCertificateRoutes(s.router, api)
	s.registerBatchRoutes(api)

	notFound := s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, &fault.Error{Kind: fault.NotFound, Code: CodeNotFound, Detail: "没有这个地址。"})
	}))
	notAllowed := s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, &fault.Error{Kind: fault.MethodNotAllowed, Code: CodeMethodNotAllowed, Detail: "该地址不支持 " + r.Method + " 方法。"})
	}))
	for _, r := range []*mux.Router{s.router, api} {
		r.NotFoundHandler, r.MethodNotAllowedHandler = notFound, notAllowed
	}
	api.NotFoundHandler = methodAware(api, notFound, notAllowed)
	return s
}

func (s *Server) now() time.Time { return s.Now() }

// DefaultBodyTimeout is how long a partner's body may take: 32 MB over a
// slow bank link.
const DefaultBodyTimeout = 2 * time.Minute

func (s *Server) bodyBudget() int64 {
	if s.BodyBudget > 0 {
		return s.BodyBudget
	}
	return DefaultBodyBudget
}

func (s *Server) bodyTimeout() time.Duration {
	if s.BodyTimeout > 0 {
		return s.BodyTimeout
	}
	return DefaultBodyTimeout
}

// ServeHTTP makes the server an http.Handler. Over TLS every answer
// tells browsers to come back only over TLS (HSTS).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS != nil {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.router.ServeHTTP(w, r)
}

// Metrics serves the Prometheus metrics (GET /metrics), for a listener of
// its own: they tell the world request rates per partner route.
func (s *Server) Metrics() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler)
	return mux
}

// HTTPServer wraps h with the timeouts every public listener needs. Before
// anyone is authenticated the deadlines are short: headers within 5 s, the
// whole request within 30 s (console forms, public pages). A partner's
// request, once its signature is checked, gets BodyTimeout for its body.
func HTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serve runs hs on ln until ctx ends, then shuts down gracefully, letting
// requests in flight finish (and so their transactions commit or roll back).
func Serve(ctx context.Context, hs *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.PingContext(ctx); err != nil {
		s.error(w, r, outage(r, err))
		return
	}
	body := readiness{Status: "ready"}
	// A missing next-year calendar does not stop this year's work: the node
	// stays ready and says so, for monitoring to page staff.
	if year, err := s.Service.CalendarYearMissing(ctx); err != nil {
		s.log.Warn("readiness: calendar not checked", slog.Any("error", err))
	} else if year != 0 {
		body.Warnings = append(body.Warnings, readinessWarning{Code: mortgage.CodeCalendarNextYearMissing, Year: year,
			Detail: fmt.Sprintf("尚未载入%d年节假日安排，%d年1月1日起将无法计算办结期限，请在控制台载入。", year, year)})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// readiness is /readyz's answer (docs/openapi.json, Health).
type readiness struct {
	Status   string             `json:"status"`
	Warnings []readinessWarning `json:"warnings,omitempty"`
}

type readinessWarning struct {
	Code   string `json:"code"`
	Year   int    `json:"year,omitempty"`
	Detail string `json:"detail"`
}
