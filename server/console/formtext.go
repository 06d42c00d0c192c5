package console

import (
	"net/http"
	"sort"
	"unicode"
	"unicode/utf8"
)

// formText refuses a form field holding a control character other than tab
// and line breaks (NUL among them) or bytes that are not UTF-8: PostgreSQL
// refuses both in text, so the field would come back as a system error. It
// runs once the form is parsed, after the console's own cheap checks; the
// server's edge middleware has already checked the path and the query.
func formText(r *http.Request) error {
	names := make([]string, 0, len(r.PostForm))
	for name := range r.PostForm {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		bad := !clean(name)
		for _, v := range r.PostForm[name] {
			bad = bad || !clean(v)
		}
		if bad {
			if !clean(name) || len(name) > 40 {
				name = "表单"
			}
			return badRequest("表单字段 " + name + " 含有控制字符（如 NUL）或无效的 UTF-8 编码，操作未执行。")
		}
	}
	return nil
}

func clean(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return false
			}
		}
		if unicode.Is(unicode.Cc, r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}
