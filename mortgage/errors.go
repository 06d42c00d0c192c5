package mortgage

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"mortgaged/internal/fault"
)

// Code is a stable machine code for one fault; partners branch on it, so a
// code, once published, never changes meaning. It is fault's, so the
// domain's errors and every adapter's speak one vocabulary.
type Code = fault.Code

// Issue is one fault in an application: where, what, and a message for people.
type Issue = fault.Issue

// Issues is every fault found, reported together (PROMISES S4).
type Issues []Issue

// Add records a fault.
func (is *Issues) Add(field string, code Code, format string, args ...any) {
	*is = append(*is, Issue{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Sorted returns the issues ordered by field then code, so answers are stable.
func (is Issues) Sorted() Issues {
	out := append(Issues(nil), is...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// MergeIssues joins a decoder's value faults with validation's, dropping a
// validation issue on a field the decoder already faulted: an unreadable
// amount is not also "zero" (PROMISES S4: every fault once).
func MergeIssues(decoded, validated Issues) Issues {
	bad := map[string]bool{}
	for _, i := range decoded {
		bad[i.Field] = true
	}
	out := append(Issues(nil), decoded...)
	for _, i := range validated {
		if !bad[i.Field] {
			out = append(out, i)
		}
	}
	return out
}

// unique drops repeated (field, code) pairs: a mortgagor of several units
// is one near match, not one per unit.
func (is Issues) unique() Issues {
	seen := map[string]bool{}
	var out Issues
	for _, i := range is {
		k := i.Field + "\x00" + string(i.Code)
		if !seen[k] {
			seen[k] = true
			out = append(out, i)
		}
	}
	return out
}

// Codes of the errors below, as partners read them (docs/problems.md).
const (
	CodeValidationFailed Code = "validation_failed"
	CodeNotFound         Code = "not_found"
	CodeNotAtDesk        Code = "not_at_desk"
	CodeQuotaExceeded    Code = "quota_exceeded"
)

// ValidationError is returned when an application fails validation; nothing
// was written.
type ValidationError struct{ Issues Issues }

func (e *ValidationError) Error() string {
	return fmt.Sprintf("application has %d validation issue(s)", len(e.Issues))
}

// Fault is what the partner is told: every issue, in a stable order.
func (e *ValidationError) Fault() *fault.Error {
	return &fault.Error{Kind: fault.Invalid, Code: CodeValidationFailed, Issues: e.Issues.Sorted(),
		Detail: "申请有 " + strconv.Itoa(len(e.Issues)) + " 处问题，见 errors；未作任何登记。"}
}

// ConflictError says the partner reused a reference for a different application.
type ConflictError struct{ BundleID string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("reference already used by bundle %s with different content", e.BundleID)
}

// Fault is what the partner is told: the bundle that holds the reference.
func (e *ConflictError) Fault() *fault.Error {
	return &fault.Error{Kind: fault.Conflict, Code: CodeReferenceConflict, Title: "业务编号已被使用", BundleID: e.BundleID,
		Detail: "该业务编号（reference）已用于内容不同的申请 " + e.BundleID + "；重试请原样提交，新申请请使用新的业务编号。"}
}

// Fault is what the partner is told: the quota, and (Retry-After) when the
// next business day begins.
func (e *QuotaError) Fault() *fault.Error {
	return &fault.Error{Kind: fault.RateLimited, Code: CodeQuotaExceeded,
		RetryAfter: e.RetryAfter,
		Detail:     "今日抵押前查询已达 " + strconv.Itoa(e.Quota) + " 次上限（查到与未查到的都计入），请于次日（Retry-After 秒后）再查。"}
}

// ErrNotFound is returned when a bundle, unit or mortgage does not exist (or is
// not the caller's to see).
var ErrNotFound = &fault.Error{Kind: fault.NotFound, Code: CodeNotFound, Detail: "没有找到该业务件。",
	Err: errors.New("not found")}

// Clip shortens a partner-supplied value to its first 40 characters (runes),
// marked "…", before a message for people quotes it back: every decoder and
// rule echoes values this one way (pii.Clip is the one for logs).
func Clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
