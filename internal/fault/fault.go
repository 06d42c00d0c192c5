// Package fault is the one application error: what kind of fault it is, a
// stable code for machines, a detail for people, and every field at fault.
// Errors say what they mean to the caller themselves (an *Error, or a
// Describer such as mortgage.ValidationError), so an adapter needs no list of
// the domain's errors: the server maps a Kind to its HTTP status in one
// table. It also holds Problem, the RFC 9457 problem detail partners read,
// once for the server's JSON and problemxml's XML.
package fault

import (
	"errors"
	"strconv"
	"time"
)

// Kind is what sort of fault an error is; it decides the HTTP status.
type Kind uint8

// Kinds. The zero Kind is Internal: an error that says nothing of itself
// is the server's fault, logged and never described to the caller.
const (
	Internal             Kind = iota
	Malformed                 // the request cannot be read (400)
	Unauthenticated           // who sent it is not proven (401)
	Forbidden                 // the caller may not do this (403)
	NotFound                  // nothing there, or nothing the caller may see (404)
	MethodNotAllowed          // the address does not take this method (405)
	Timeout                   // the request did not arrive in time (408)
	Conflict                  // the state does not allow it, or a reference is taken (409)
	Gone                      // the address is retired (410)
	TooLarge                  // past a size limit (413)
	UnsupportedMediaType      // a Content-Type the address does not take (415)
	Invalid                   // read, but it breaks the rules (422)
	RateLimited               // too many requests or queries for now (429)
	Unavailable               // the centre cannot serve it now; retrying is safe (503)
)

var kindNames = [...]string{"internal", "malformed", "unauthenticated", "forbidden", "not_found",
	"method_not_allowed", "timeout", "conflict", "gone", "too_large", "unsupported_media_type",
	"invalid", "rate_limited", "unavailable"}

// Kinds lists every kind, Internal first.
func Kinds() []Kind {
	ks := make([]Kind, len(kindNames))
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// String names the kind in English, for logs.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Code is a stable machine code for one fault; partners branch on it, so a
// code, once published, never changes meaning.
type Code string

// Issue is one fault in a request: where, what, and a message for people.
type Issue struct {
	Field   string `json:"field"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Error is an error the caller is told about.
type Error struct {
	Kind     Kind
	Code     Code
	Title    string  // Chinese; "" for the kind's own title
	Detail   string  // Chinese, for people; safe to show the caller
	Issues   []Issue // every field at fault
	BundleID string  // the bundle the fault is about (a reference taken by it)
	// RetryAfter, when set, is sent as Retry-After: when to try again.
	RetryAfter time.Duration
	// Err is the cause, English, for the log and for errors.Is; never
	// shown. An Internal or Unavailable error with a cause is logged at
	// error level: the centre has to act on it.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return string(e.Code)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Fault returns e itself: an *Error describes itself.
func (e *Error) Fault() *Error { return e }

// A Describer is an error that says what it means to the caller, as
// domain errors do (mortgage.ValidationError, xmlsafe.Error, …).
type Describer interface {
	error
	Fault() *Error
}

// As returns the description of the first error in err's chain that gives
// one; false when none does (an internal error, or one from below the
// application, such as the database's).
// A sentinel's description is the sentinel itself: copy it before changing it.
func As(err error) (*Error, bool) {
	var d Describer
	if !errors.As(err, &d) {
		return nil, false
	}
	fe := d.Fault()
	return fe, fe != nil
}

// KindOf is the kind of err: its description's, else Internal.
func KindOf(err error) Kind {
	if fe, ok := As(err); ok {
		return fe.Kind
	}
	return Internal
}

// Problem is an RFC 9457 problem detail with every field fault listed: what
// a partner reads, as problem+json from the server or problem+xml through
// problemxml. In XML an error's Field holds the canonical path
// (mortgagors[0].idNumber) or, starting with "/", a partner path already.
type Problem struct {
	Type     string  `json:"type"`
	Title    string  `json:"title"`
	Status   int     `json:"status"`
	Detail   string  `json:"detail,omitempty"`
	Instance string  `json:"instance,omitempty"`
	Code     Code    `json:"code"`
	Errors   []Issue `json:"errors,omitempty"`
	BundleID string  `json:"bundleId,omitempty"`
}
