package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"mortgaged/internal/db"
	"mortgaged/internal/fault"
	"mortgaged/internal/pii"
	"mortgaged/mortgage"
	"mortgaged/mortgage/calendar"
	"mortgaged/partners/requestsig"
)

// Problem is the RFC 9457 problem detail partners read.
type Problem = fault.Problem

// Problem codes that are not field faults. The domain's own are its
// errors' (mortgage, calendar); they are named here too for the handlers.
const (
	CodeValidation                      = mortgage.CodeValidationFailed
	CodeUnauthenticated   mortgage.Code = "unauthenticated"
	CodeNotFound                        = mortgage.CodeNotFound
	CodeConflict                        = mortgage.CodeReferenceConflict
	CodeTooLarge          mortgage.Code = "body_too_large"
	CodeMediaType         mortgage.Code = "unsupported_media_type"
	CodeInternal          mortgage.Code = "internal_error"
	CodeUnavailable       mortgage.Code = "unavailable"
	CodeBadRequest        mortgage.Code = "bad_request"
	CodeMethodNotAllowed  mortgage.Code = "method_not_allowed"
	CodeNotAtDesk                       = mortgage.CodeNotAtDesk
	CodeCalendarNotLoaded               = calendar.CodeNotLoaded
	CodeBatchNotFinished  mortgage.Code = "batch_not_finished"
)

// error answers err in the partner's format (problem+json, or its XML).
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, s.problem(w, r, err))
}

// writeProblem renders p as application/problem+json, or in the
// authenticated partner's XML format with fields named by its own element
// paths.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if f := formatFrom(r.Context()); f != nil && f.EncodeProblem != nil {
		if b, err := f.EncodeProblem(p); err == nil {
			w.Header().Set("Content-Type", f.ProblemType)
			w.WriteHeader(p.Status)
			_, _ = w.Write(b)
			return
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// problem is what the partner is told of err, its status from its kind
// (fault's one table); it sets the headers the kind calls for and logs what the partner
// is not told.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) Problem {
	fe := s.describe(r, err)
	switch fe.Kind {
	case fault.Unauthenticated:
		w.Header().Set("WWW-Authenticate", requestsig.Algorithm)
	case fault.Timeout:
		// The body trickled in past its deadline; the rest is not read.
		w.Header().Set("Connection", "close")
	}
	if fe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(fe.RetryAfter.Seconds())))))
	}
	title := fe.Title
	if title == "" {
		title = fe.Kind.Title()
	}
	return Problem{Type: "/docs/problems.md#" + string(fe.Code), Title: title, Status: fe.Kind.Status(), Detail: fe.Detail,
		Instance: r.URL.Path, Code: fe.Code, Errors: fe.Issues, BundleID: fe.BundleID}
}

// describe finds what err means to the partner: its own description, or
// for errors from below the application (net/http, the database) the
// answer here; anything else is internal, logged and never described.
func (s *Server) describe(r *http.Request, err error) *fault.Error {
	if fe, ok := fault.As(err); ok {
		if fe.Err != nil && (fe.Kind == fault.Internal || fe.Kind == fault.Unavailable) {
			s.log.ErrorContext(r.Context(), "cannot serve", slog.String("code", string(fe.Code)), slog.Any("error", err))
		}
		return fe
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &fault.Error{Kind: fault.TooLarge, Code: CodeTooLarge,
			Detail: "请求体超过 " + strconv.Itoa(int(mbe.Limit>>20)) + " MB 上限；请压缩或拆分材料。"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: "请求体比 Content-Length 声明的短（连接中断？）；未作任何处理。"}
	case db.IsUnavailable(err):
		return outage(r, err)
	}
	// An error's text may quote the input: clipped like everything logged.
	s.log.ErrorContext(r.Context(), "internal error", slog.String("path", pii.Clip(r.URL.Path, maxLogValue)), slog.String("error", pii.Clip(err.Error(), 1024)))
	return &fault.Error{Kind: fault.Internal, Code: CodeInternal, Detail: "服务器内部错误，请稍后重试；重试是安全的。"}
}

// outage answers an outage of the database: 503 with Retry-After, the same
// on every route, and no internal_error (the request did nothing; the
// server itself is well). The request's log line names the cause.
func outage(r *http.Request, err error) *fault.Error {
	addLog(r.Context(), slog.String("unavailable", err.Error()))
	return &fault.Error{Kind: fault.Unavailable, Code: CodeUnavailable, RetryAfter: db.RetryAfter,
		Detail: "数据库暂时不可用，请求未作处理；请在 Retry-After 秒后重试（重试是安全的）。"}
}
