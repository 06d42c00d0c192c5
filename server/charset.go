package server

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
)

// CodeInvalidCharacters is a path, query parameter or signature header
// holding a control character (NUL among them) or bytes that are
// not UTF-8.
const CodeInvalidCharacters mortgage.Code = "invalid_characters"

// refuseInvalidText answers 400 for a control character or invalid UTF-8
// in the path, the query or the signature headers, before any handler runs
// (console form fields are checked by the console once it has parsed them:
// this middleware never reads a body). PostgreSQL refuses NUL and invalid UTF-8
// in text, so such a value used to reach SQL and come back as a 500 that
// said retrying was safe; no handler has a use for one. Bodies are the
// formats' and the domain's to check (mortgage.Validate's text rules).
func (s *Server) refuseInvalidText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if field, ok := invalidText(r); ok {
			// The answer's instance is the path as sent, escaped: a NUL in it
			// would make the problem itself invalid.
			u := *r.URL
			u.Path, u.RawPath = u.EscapedPath(), ""
			r = r.WithContext(r.Context())
			r.URL = &u
			s.error(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeInvalidCharacters,
				Detail: "请求地址、参数或签名请求头中含有控制字符（如 NUL）或无效的 UTF-8 编码：" + field + "。",
				Issues: []fault.Issue{{Field: field, Code: CodeInvalidCharacters, Message: field + " 含有控制字符或无效的 UTF-8 编码，请删除后重试"}}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// invalidText names the first part of the request that holds a control
// character or invalid UTF-8.
func invalidText(r *http.Request) (string, bool) {
	if !cleanText(r.URL.Path) {
		return "path", true
	}
	q, _ := url.ParseQuery(r.URL.RawQuery) // malformed escapes are the handlers' to report
	if f, ok := firstInvalid(q); ok {
		return f, true
	}
	for name, vs := range r.Header {
		if strings.HasPrefix(name, "X-Mgd-") {
			for _, v := range vs {
				if !cleanText(v) {
					return name, true
				}
			}
		}
	}
	return "", false
}

// firstInvalid finds, in name order, the first parameter whose name or a
// value is not clean text.
func firstInvalid(v url.Values) (string, bool) {
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !cleanText(name) {
			return "query", true // the name itself cannot be shown
		}
		for _, s := range v[name] {
			if !cleanText(s) {
				return mortgage.Clip(name), true
			}
		}
	}
	return "", false
}

// cleanText reports whether s is UTF-8 without control characters.
func cleanText(s string) bool {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return false
			}
		case unicode.Is(unicode.Cc, r):
			return false
		}
	}
	return true
}
