package console

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"mortgaged/internal/pii"
	"mortgaged/internal/staff"
)

type signinData struct {
	Token    string
	Next     string
	Username string
	Error    string
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/console/queue"
}

// signinPage shows the sign-in form. Before there is a session, its CSRF
// token lives in a short-lived cookie that the form must echo.
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	if s, err := c.loadSession(r.Context(), r); err == nil && s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.renderSignin(w, r, http.StatusOK, signinData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) renderSignin(w http.ResponseWriter, r *http.Request, status int, d signinData) {
	// Reuse the token of an open sign-in form, so two tabs both work.
	if ck, err := r.Cookie(signinCookie); err == nil && len(ck.Value) == 43 {
		d.Token = ck.Value
	} else {
		d.Token = randomToken()
	}
	http.SetCookie(w, c.cookie(r, signinCookie, d.Token, "/console/signin", 3600))
	c.render(w, r, status, "signin.html", view{Title: "登录", Data: d})
}

// signin checks the username and password. Unknown users, disabled users
// and wrong passwords get the same answer after the same hashing work.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := c.origin.Check(r); err != nil {
		c.fail(w, r, nil, errCSRF)
		return
	}
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, nil, badRequest("表单无法解析。"))
		return
	}
	if err := formText(r); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	ck, err := r.Cookie(signinCookie)
	if err != nil || !tokensEqual(ck.Value, r.PostForm.Get(csrfField)) {
		c.log.Warn("console: sign-in without a valid form token")
		c.fail(w, r, nil, errCSRF)
		return
	}
	username := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	d := signinData{Next: safeNext(r.PostForm.Get("next")), Username: username}
	now := c.now()
	addr := clientAddr(r)
	// The log names who tried, clipped: the form is the client's to fill.
	who := slog.Group("signin", slog.String("username", pii.Clip(username, 64)), slog.String("addr", addr))
	if wait := c.throttle.wait(username, addr, now); wait > 0 {
		c.log.Warn("console: sign-in slowed, too many failures", who)
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		d.Error = "登录失败次数过多，请 " + strconv.Itoa(secs) + " 秒后再试。"
		c.renderSignin(w, r, http.StatusTooManyRequests, d)
		return
	}
	done, ok := c.throttle.hash()
	if !ok {
		c.log.Warn("console: sign-in refused, hashing busy", who)
		w.Header().Set("Retry-After", "1")
		d.Error = "登录请求过多，请稍后再试。"
		c.renderSignin(w, r, http.StatusTooManyRequests, d)
		return
	}
	st, err := c.staff.Authenticate(r.Context(), username, r.PostForm.Get("password"))
	done()
	if errors.Is(err, staff.ErrUnauthenticated) {
		c.throttle.failed(username, addr, now)
		c.log.Warn("console: sign-in failed", who)
		d.Error = "用户名或密码错误。"
		c.renderSignin(w, r, http.StatusUnauthorized, d)
		return
	}
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.throttle.succeeded(username, addr)
	s, err := c.startSession(r.Context(), w, r, st)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, c.cookie(r, signinCookie, "", "/console/signin", -1))
	c.log.Info("console: signed in", slog.String("staff", s.Username), slog.String("role", string(s.Role)))
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// signout ends the session.
func (c *Console) signout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.signOut(r.Context(), w, r, s); err != nil {
		return err
	}
	c.setFlash(w, r, "ok", "您已安全退出。")
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return nil
}
