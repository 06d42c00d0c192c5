package mortgage

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CodeTextCharacter is a text field holding a character that must not be
// registered: a control character, a bidirectional override, a zero-width or
// other invisible format character, or bytes that are not UTF-8.
const CodeTextCharacter Code = "text_forbidden_character"

// checkText refuses, in every text field of the application, what a person
// reading the register or a certificate would not see, or would see in
// another order than a machine compares it: C0 and C1 controls (NUL among
// them, which PostgreSQL cannot store), bidirectional overrides and isolates
// (U+202A–U+202E, U+2066–U+2069: "‮ABC" reads as CBA), zero-width characters
// (U+200B–U+200F, U+2060, U+FEFF) and every other format character (Cf),
// line and paragraph separators. Tab and line breaks are allowed only in the
// texts written as paragraphs: remarks, the reason for review, the reason
// for cancelling. It runs once on the canonical application, so every wire
// format gets the same rule.
func checkText(is *Issues, a *Application) {
	one := func(field, s string) { textChars(is, field, s, false) }
	para := func(field, s string) { textChars(is, field, s, true) }
	party := func(field string, p Party) {
		one(field+".name", p.Name)
		one(field+".idType", p.IDType)
		one(field+".idNumber", p.IDNumber)
	}
	one("reference", a.Reference)
	one("type", string(a.Type))
	for i, u := range a.Units {
		one(fmt.Sprintf("units[%d].unitNumber", i), u.UnitNumber)
		one(fmt.Sprintf("units[%d].titleCertificateNumber", i), u.TitleCertificateNumber)
	}
	for i, p := range a.Mortgagors {
		party(fmt.Sprintf("mortgagors[%d]", i), p)
	}
	party("mortgagee", a.Mortgagee)
	for i, p := range a.Debtors {
		party(fmt.Sprintf("debtors[%d]", i), p)
	}
	if a.Agent != nil {
		party("agent", *a.Agent)
	}
	if t := a.Mortgage; t != nil {
		one("mortgage.collateralKind", t.CollateralKind)
		one("mortgage.scope", t.Scope)
	}
	if c := a.Cancellation; c != nil {
		one("cancellation.certificateNumber", c.CertificateNumber)
		para("cancellation.reason", c.Reason)
	}
	one("feeExemption", a.FeeExemption)
	para("remarks", a.Remarks)
	for i, m := range a.Materials {
		one(fmt.Sprintf("materials[%d].kind", i), m.Kind)
		one(fmt.Sprintf("materials[%d].fileName", i), m.FileName)
		one(fmt.Sprintf("materials[%d].mediaType", i), m.MediaType)
		one(fmt.Sprintf("materials[%d].sha256", i), m.SHA256)
	}
	for i, p := range a.Promises {
		one(fmt.Sprintf("promises[%d].kind", i), p.Kind)
	}
	para("reviewRequest", a.ReviewRequest)
}

// materialText applies the text rules to a document supplied on its own
// (POST /v1/bundles/{id}/materials); field paths are the object's own.
func materialText(m Material) Issues {
	var is Issues
	textChars(&is, "kind", m.Kind, false)
	textChars(&is, "fileName", m.FileName, false)
	textChars(&is, "mediaType", m.MediaType, false)
	textChars(&is, "sha256", m.SHA256, false)
	return is
}

// textChars adds one issue for the first forbidden character of s.
func textChars(is *Issues, field, s string, multiline bool) {
	pos := 0
	for i, r := range s {
		pos++
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				is.Add(field, CodeTextCharacter, "第 %d 个字符处不是有效的 UTF-8 编码", pos)
				return
			}
		}
		if multiline && (r == '\t' || r == '\n' || (r == '\r' && i+1 < len(s) && s[i+1] == '\n')) {
			continue
		}
		if multiline && r == '\r' {
			is.Add(field, CodeTextCharacter, "第 %d 个字符是单独的回车符 U+000D：换行请用 \\n 或 \\r\\n", pos)
			return
		}
		if what := forbidden(r); what != "" {
			is.Add(field, CodeTextCharacter, "第 %d 个字符是%s U+%04X，不能登记：登记簿和证明上看不见它，或它会改变文字的显示顺序；请删除后重新提交", pos, what, r)
			return
		}
	}
}

// forbidden names, in Chinese, the kind of a character that may not stand
// in registered text; "" for one that may.
func forbidden(r rune) string {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return "制表符或换行符（此字段只能是一行）"
	case unicode.Is(unicode.Cc, r):
		return "控制字符"
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return "双向文本控制符"
	case r >= 0x200B && r <= 0x200F, r == 0x2060, r == 0xFEFF:
		return "零宽字符"
	case unicode.Is(unicode.Cf, r):
		return "不可见的格式字符"
	case r == 0x2028 || r == 0x2029:
		return "行或段落分隔符"
	}
	return ""
}

// SameName compares a name as written in an application with the register's
// after NFC normalisation: "é" composed and "e" with a combining accent are
// one name, as a person reading either sees one.
func SameName(a, b string) bool {
	return norm.NFC.String(a) == norm.NFC.String(b)
}
