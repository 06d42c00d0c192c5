package console

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"mortgaged/internal/db"
	"mortgaged/internal/fault"
	"mortgaged/internal/pii"
	"mortgaged/internal/staff"
	"mortgaged/mortgage"
	"mortgaged/mortgage/calendar"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is the console's settings, validated by New.
type Config struct {
	// Location is business time (Asia/Shanghai): every time shown and every
	// "today". It must be an IANA zone PostgreSQL knows by name.
	Location *time.Location
	// SecureCookies marks cookies Secure even on plain HTTP requests, for a
	// node behind a TLS-terminating proxy. Requests over TLS always get
	// Secure cookies.
	SecureCookies bool
	// IdleTimeout ends a session nobody used for this long (default 30 min).
	IdleTimeout time.Duration
	// MaxLifetime ends any session this long after sign-in (default 12 h).
	MaxLifetime time.Duration
	// Calendar is the centre's service-day settings (the registration
	// service's), shown on the calendar page when Close is set; the shipped
	// years listed there are read from it. Uploaded notices are checked by
	// the domain with its own settings (mortgage.Service.LoadCalendarYear).
	Calendar calendar.Settings
	// RefusalReasons are the reasons an officer may choose; nil means
	// DefaultRefusalReasons().
	RefusalReasons []Reason
	// PromiseFollowUp is what the centre does about an overdue promise,
	// shown to supervisors on the promises page.
	PromiseFollowUp string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Console is the staff console: an http.Handler for everything under /console.
type Console struct {
	desk     Desk
	register Register
	staff    Accounts
	letters  DeadLetters
	cfg      Config
	calendar calendar.Settings // cfg.Calendar with defaults filled in
	log      *slog.Logger
	router   *mux.Router
	pages    map[string]*template.Template
	origin   *http.CrossOriginProtection
	throttle *signinThrottle
	reasons  map[string]string // refusal code → label
}

// DefaultPromiseFollowUp is the follow-up of an overdue promise unless
// the centre sets its own.
const DefaultPromiseFollowUp = "逾期未补交的，由承办人当日电话督促合作机构补交并记录；逾期超过 5 个工作日仍未补交的，报主管决定是否依法撤销登记。"

// Defaults.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxLifetime = 12 * time.Hour
	maxFormBytes       = 1 << 20
	maxUploadBytes     = 2 << 20 // a year's holiday notice is a few KB
)

// New builds the console on b; see Backend.
func New(b Backend, cfg Config, log *slog.Logger) (*Console, error) {
	if b.Desk == nil || b.Register == nil || b.Staff == nil || b.DeadLetters == nil {
		return nil, errors.New("console: Backend needs a Desk, a Register, Staff and DeadLetters")
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		cfg.Location = loc
	}
	if name := cfg.Location.String(); name == "Local" || name == "" {
		return nil, errors.New("console: Location must be a named IANA zone such as Asia/Shanghai")
	} else if _, err := time.LoadLocation(name); err != nil {
		return nil, fmt.Errorf("console: Location %q is not an IANA zone: %w", name, err)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if cfg.MaxLifetime < cfg.IdleTimeout {
		return nil, fmt.Errorf("console: session lifetime %s is shorter than the idle timeout %s", cfg.MaxLifetime, cfg.IdleTimeout)
	}
	// The page lists the shipped years with these settings; it shows the
	// centre's own only when they are given.
	cal := cfg.Calendar
	if cal.Location == nil {
		cal.Location = cfg.Location
	}
	if cal.Close == 0 { // not given: the domain's defaults, never shown
		def := mortgage.DefaultCalendar(cal.Location)
		cal.Close, cal.CutOff = def.Close, def.CutOff
	}
	if cal.CutOff == 0 {
		cal.CutOff = cal.Close
	}
	if _, err := calendar.New(cal); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if cfg.RefusalReasons == nil {
		cfg.RefusalReasons = DefaultRefusalReasons()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PromiseFollowUp == "" {
		cfg.PromiseFollowUp = DefaultPromiseFollowUp
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Console{desk: b.Desk, register: b.Register, staff: b.Staff, letters: b.DeadLetters, cfg: cfg, calendar: cal, log: log, origin: http.NewCrossOriginProtection(),
		throttle: newSigninThrottle(), reasons: map[string]string{}}
	for _, r := range cfg.RefusalReasons {
		c.reasons[r.Code] = r.Label
	}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) now() time.Time { return c.cfg.Now() }

// actor is how the audit trail names a member of staff, as the domain does.
func actor(s *session) string { return staff.Actor(s.Username) }

// ServeHTTP makes the console an http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.router.ServeHTTP(w, r) }

func (c *Console) routes() {
	r := mux.NewRouter()
	r.Use(c.securityHeaders)
	home := http.RedirectHandler("/console/queue", http.StatusSeeOther)
	r.Handle("/console", home)
	r.Handle("/console/", home)
	static, _ := fs.Sub(staticFS, "static")
	r.PathPrefix("/console/static/").Handler(http.StripPrefix("/console/static/", noListing(cacheFor(time.Hour, http.FileServerFS(static))))).Methods(http.MethodGet, http.MethodHead)

	r.HandleFunc("/console/signin", c.signinPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/console/signin", c.signin).Methods(http.MethodPost)
	r.Handle("/console/signout", c.action(c.signout, anyone)).Methods(http.MethodPost)

	get := func(path string, h handler) { r.Handle(path, c.page(h)).Methods(http.MethodGet, http.MethodHead) }
	post := func(path string, h handler, allowed func(Role) bool) {
		r.Handle(path, c.action(h, allowed)).Methods(http.MethodPost)
	}
	get("/console/queue", c.queue)
	get("/console/bundles/{id}", c.bundle)
	get("/console/bundles/{id}/materials/{seq:[0-9]+}", c.material)
	post("/console/bundles/{id}/approve", c.approve, Role.CanDecide)
	post("/console/bundles/{id}/refuse", c.refuse, Role.CanDecide)
	post("/console/bundles/{id}/reassign", c.reassign, Role.CanSupervise)
	get("/console/promises", c.promises)
	get("/console/dashboard", c.dashboard)
	get("/console/calendar", c.calendarPage)
	post("/console/calendar", c.loadCalendar, Role.CanSupervise)
	get("/console/rules", c.rules)
	post("/console/rules/{kind}", c.updateRule, Role.CanSupervise)
	get("/console/dead-letters", c.deadLetters)
	post("/console/dead-letters/{id}/redeliver", c.redeliver, Role.CanSupervise)
	get("/console/throttles", c.throttles)
	post("/console/throttles/clear", c.clearThrottle, Role.CanSupervise)

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, &fault.Error{Kind: fault.NotFound, Title: "页面不存在", Detail: "没有这个页面。"})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, &fault.Error{Kind: fault.MethodNotAllowed, Title: "不支持的请求", Detail: "该地址不支持 " + r.Method + " 请求。"})
	})
	c.router = r
}

func anyone(Role) bool { return true }

// handler serves one page or action for a signed-in member of staff.
type handler func(w http.ResponseWriter, r *http.Request, s *session) error

// The console's own refusals are fault errors like everyone's: the kind
// chooses the status from fault's one table, the title and detail are
// what the officer reads on the error page.

func notFound(what string) error {
	return &fault.Error{Kind: fault.NotFound, Title: "未找到", Detail: "没有这个" + what + "。"}
}

func badRequest(msg string) error {
	return &fault.Error{Kind: fault.Malformed, Title: "请求有误", Detail: msg}
}

var errForbiddenRole = &fault.Error{Kind: fault.Forbidden, Title: "无权操作", Detail: "您的角色无权执行此操作，操作未执行。"}

// page serves a GET page to any signed-in member of staff; others are sent
// to sign in and come back.
func (c *Console) page(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.loadSession(r.Context(), r)
		if err != nil {
			c.fail(w, r, nil, err)
			return
		}
		if s == nil {
			http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	})
}

// action serves a POST: it needs a session, the session's CSRF token in the
// form and a role that allowed accepts. Anything missing is refused before
// the handler runs, so nothing changes.
func (c *Console) action(h handler, allowed func(Role) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
		if err := c.origin.Check(r); err != nil {
			c.log.Warn("console: cross-origin POST refused", slog.String("path", pii.Clip(r.URL.Path, 256)), slog.String("origin", pii.Clip(r.Header.Get("Origin"), 256)))
			c.fail(w, r, nil, errCSRF)
			return
		}
		s, err := c.loadSession(r.Context(), r)
		if err != nil {
			c.fail(w, r, nil, err)
			return
		}
		if s == nil {
			c.setFlash(w, r, "error", "会话已过期或未登录，操作未执行。请重新登录。")
			http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
			return
		}
		if err := parseForm(r); err != nil {
			c.fail(w, r, s, badRequest("表单无法解析或超过大小限制。"))
			return
		}
		if err := formText(r); err != nil {
			c.fail(w, r, s, err)
			return
		}
		if !tokensEqual(r.PostForm.Get(csrfField), s.CSRF) {
			c.log.Warn("console: CSRF token missing or wrong", slog.String("path", pii.Clip(r.URL.Path, 256)), slog.String("staff", s.Username))
			c.fail(w, r, s, errCSRF)
			return
		}
		if !allowed(s.Role) {
			c.log.Warn("console: action refused for role", slog.String("path", pii.Clip(r.URL.Path, 256)), slog.String("staff", s.Username), slog.String("role", string(s.Role)))
			c.fail(w, r, s, errForbiddenRole)
			return
		}
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	})
}

var errCSRF = &fault.Error{Kind: fault.Forbidden, Title: "请求被拒绝",
	Detail: "表单校验失败（缺少或错误的 CSRF 令牌，或请求来自其他网站），操作未执行。请返回页面刷新后重试。"}

func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(maxUploadBytes)
	}
	return r.ParseForm()
}

// errorPage is what error.html shows.
type errorPage struct {
	Status         int
	Title, Message string
}

// fail renders an error page for err: a fault the officer can act on with
// its own title and detail, an outage as one, anything else logged and
// shown as a system error.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	fe, ok := fault.As(err)
	switch {
	case ok && fe.Kind != fault.Internal && fe.Kind != fault.Unavailable:
	case db.IsUnavailable(err) || ok && fe.Kind == fault.Unavailable:
		// An outage, not a bug: the officer may simply try again.
		c.log.Warn("console: database unavailable", slog.String("method", pii.Clip(r.Method, 16)), slog.String("path", pii.Clip(r.URL.Path, 256)), slog.String("error", pii.Clip(err.Error(), 1024)))
		w.Header().Set("Retry-After", strconv.Itoa(int(db.RetryAfter.Seconds())))
		fe = &fault.Error{Kind: fault.Unavailable, Title: "服务暂不可用", Detail: "数据库暂时不可用，操作未执行。请稍后重试。"}
	default:
		c.log.Error("console: internal error", slog.String("method", pii.Clip(r.Method, 16)), slog.String("path", pii.Clip(r.URL.Path, 256)), slog.String("error", pii.Clip(err.Error(), 1024)))
		fe = &fault.Error{Kind: fault.Internal, Title: "系统错误", Detail: "系统错误，操作未完成，已记录日志。请稍后重试或联系系统管理员。"}
	}
	title := fe.Title
	if title == "" {
		title = fe.Kind.Title()
	}
	page := errorPage{Status: fe.Kind.Status(), Title: title, Message: fe.Detail}
	c.render(w, r, page.Status, "error.html", view{Title: title, S: s, Data: page})
}

// flash is a one-time message shown on the next page.
type flash struct {
	Kind    string `json:"k"` // ok or error
	Message string `json:"m"`
}

func (c *Console) setFlash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	b, _ := json.Marshal(flash{kind, msg})
	http.SetCookie(w, c.cookie(r, flashCookie, base64.RawURLEncoding.EncodeToString(b), "/console", 120))
}

func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, c.cookie(r, flashCookie, "", "/console", -1))
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(b, &f) != nil || f.Message == "" {
		return nil
	}
	return &f
}

// view is what every page template gets.
type view struct {
	Title string
	Nav   string // the highlighted menu entry
	S     *session
	Flash *flash
	Now   time.Time
	Data  any
	// CalendarMissing is the year whose holiday notice supervisors must
	// load (from 1 December), 0 when none.
	CalendarMissing int
}

// render executes a page into a buffer first, so a template error is a
// clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := c.pages[name]
	if !ok {
		c.log.Error("console: no template", slog.String("name", name))
		http.Error(w, "template missing", http.StatusInternalServerError)
		return
	}
	if v.Flash == nil && r.Method == http.MethodGet {
		v.Flash = c.takeFlash(w, r)
	}
	v.Now = c.now()
	if v.S != nil && v.S.Role.CanSupervise() {
		year, err := c.register.CalendarYearMissing(r.Context())
		if err != nil {
			c.log.Warn("console: calendar not checked for next year", slog.Any("error", err))
		}
		v.CalendarMissing = year
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("console: render", slog.String("template", name), slog.Any("error", err))
		http.Error(w, "系统错误", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// done ends a successful action: a flash message and a redirect (POST,
// redirect, GET), so reloading the page does not repeat the action.
func (c *Console) done(w http.ResponseWriter, r *http.Request, msg, to string) error {
	c.setFlash(w, r, "ok", msg)
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// securityHeaders keep pages out of other sites' frames and caches and
// allow only the console's own script, style and frames.
func (c *Console) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// noListing serves files only: a folder (the path is empty or ends in /)
// is not listed, so what ships with the console is not advertised.
func noListing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}
