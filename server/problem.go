package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"mortgaged/internal/db"
	"mortgaged/internal/pii"
	"mortgaged/mortgage"
	"mortgaged/mortgage/calendar"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/problemxml"
	"mortgaged/partners/xmlsafe"
)

// Problem is an RFC 9457 problem detail with every field fault listed.
type Problem struct {
	Type     string          `json:"type"`
	Title    string          `json:"title"`
	Status   int             `json:"status"`
	Detail   string          `json:"detail,omitempty"`
	Instance string          `json:"instance,omitempty"`
	Code     mortgage.Code   `json:"code"`
	Errors   mortgage.Issues `json:"errors,omitempty"`
	BundleID string          `json:"bundleId,omitempty"`
}

// Problem codes that are not field faults.
const (
	CodeValidation        mortgage.Code = "validation_failed"
	CodeUnauthenticated   mortgage.Code = "unauthenticated"
	CodeNotFound          mortgage.Code = "not_found"
	CodeConflict          mortgage.Code = "reference_conflict"
	CodeTooLarge          mortgage.Code = "body_too_large"
	CodeMediaType         mortgage.Code = "unsupported_media_type"
	CodeInternal          mortgage.Code = "internal_error"
	CodeUnavailable       mortgage.Code = "unavailable"
	CodeBadRequest        mortgage.Code = "bad_request"
	CodeMethodNotAllowed  mortgage.Code = "method_not_allowed"
	CodeNotAtDesk         mortgage.Code = "not_at_desk"
	CodeCalendarNotLoaded mortgage.Code = "calendar_not_loaded"
	CodeBatchNotFinished  mortgage.Code = "batch_not_finished"
)

// problemTitles gives each status its Chinese title, for people.
var problemTitles = map[int]string{
	http.StatusBadRequest:            "请求无法解析",
	http.StatusUnauthorized:          "身份验证失败",
	http.StatusForbidden:             "无权访问",
	http.StatusNotFound:              "未找到",
	http.StatusMethodNotAllowed:      "不支持该请求方法",
	http.StatusRequestTimeout:        "请求体接收超时",
	http.StatusConflict:              "业务编号已被使用",
	http.StatusGone:                  "该地址已停用",
	http.StatusRequestEntityTooLarge: "请求体过大",
	http.StatusUnsupportedMediaType:  "不支持的内容类型",
	http.StatusUnprocessableEntity:   "申请未通过校验",
	http.StatusTooManyRequests:       "请求过于频繁",
	http.StatusInternalServerError:   "服务器内部错误",
	http.StatusServiceUnavailable:    "服务暂不可用",
}

// writeProblem renders p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Title == "" {
		p.Title = problemTitles[p.Status]
	}
	p.Type = "/docs/problems.md#" + string(p.Code)
	p.Instance = r.URL.Path
	// An authenticated XML partner reads errors in its own format, with
	// fields named by its own element paths.
	if f := formatFrom(r.Context()); f != nil && f.EncodeProblem != nil {
		if b, err := f.EncodeProblem(problemxml.Problem(p)); err == nil {
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

// Error renders err for the partner: known domain errors map to their
// status through one table here; anything else is a 500 that is logged and
// never described to the caller.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	var ve *mortgage.ValidationError
	var ce *mortgage.ConflictError
	var se *centrejson.SyntaxError
	var mbe *http.MaxBytesError
	var xe *xmlsafe.Error
	var qe *mortgage.QuotaError
	switch {
	case errors.As(err, &ve):
		writeProblem(w, r, Problem{Status: http.StatusUnprocessableEntity, Code: CodeValidation,
			Detail: "申请有 " + strconv.Itoa(len(ve.Issues)) + " 处问题，见 errors；未作任何登记。", Errors: ve.Issues.Sorted()})
	case errors.As(err, &ce):
		writeProblem(w, r, Problem{Status: http.StatusConflict, Code: CodeConflict, BundleID: ce.BundleID,
			Detail: "该业务编号（reference）已用于内容不同的申请 " + ce.BundleID + "；重试请原样提交，新申请请使用新的业务编号。"})
	case errors.As(err, &se):
		p := Problem{Status: http.StatusBadRequest, Code: se.Code, Detail: se.Message}
		if se.Field != "" {
			p.Errors = mortgage.Issues{{Field: se.Field, Code: se.Code, Message: se.Message}}
		}
		writeProblem(w, r, p)
	case errors.As(err, &xe):
		status := http.StatusBadRequest
		switch {
		case xe.Code == "xml_too_large":
			status = http.StatusRequestEntityTooLarge
		case strings.HasPrefix(string(xe.Code), "batch_"):
			status = http.StatusUnprocessableEntity
		}
		p := Problem{Status: status, Code: xe.Code, Detail: xe.Message}
		if xe.Field != "" {
			p.Errors = mortgage.Issues{{Field: xe.Field, Code: xe.Code, Message: xe.Message}}
		}
		writeProblem(w, r, p)
	case errors.Is(err, errBodyDigest):
		s.unauthenticated(w, r, "body", CodeBodyDigest, "请求体与签名中的摘要不一致（传输中被改动，或签名的不是所发送的字节）")
	case errors.As(err, &mbe):
		writeProblem(w, r, Problem{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Detail: "请求体超过 " + strconv.Itoa(int(mbe.Limit>>20)) + " MB 上限；请压缩或拆分材料。"})
	case errors.Is(err, errBodyTimeout):
		// The body trickled in past its deadline; the rest is not read.
		w.Header().Set("Connection", "close")
		writeProblem(w, r, Problem{Status: http.StatusRequestTimeout, Code: CodeRequestTimeout,
			Detail: "请求体未在 " + strconv.Itoa(int(s.bodyTimeout().Seconds())) + " 秒内传完，连接已断开；未作任何处理，请重新发送。"})
	case errors.Is(err, io.ErrUnexpectedEOF):
		writeProblem(w, r, Problem{Status: http.StatusBadRequest, Code: CodeBadRequest, Detail: "请求体比 Content-Length 声明的短（连接中断？）；未作任何处理。"})
	case errors.As(err, &qe):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(qe.RetryAfter.Seconds())))))
		writeProblem(w, r, Problem{Status: http.StatusTooManyRequests, Code: CodeQuotaExceeded,
			Detail: "今日抵押前查询已达 " + strconv.Itoa(qe.Quota) + " 次上限（查到与未查到的都计入），请于次日（Retry-After 秒后）再查。"})
	case errors.Is(err, mortgage.ErrNotAtDesk):
		writeProblem(w, r, Problem{Status: http.StatusConflict, Code: CodeNotAtDesk, Detail: "该业务件已作出决定或已撤回，不能再补交材料或撤回。"})
	case errors.Is(err, calendar.ErrNotLoaded):
		s.log.ErrorContext(r.Context(), "working calendar missing a year", slog.Any("error", err))
		writeProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Code: CodeCalendarNotLoaded, Detail: "登记中心尚未载入计算审核期限所需年度的节假日安排，请稍后重试。"})
	case errors.Is(err, mortgage.ErrNotFound):
		writeProblem(w, r, Problem{Status: http.StatusNotFound, Code: CodeNotFound, Detail: "没有找到该业务件。"})
	case db.IsUnavailable(err):
		s.unavailable(w, r, err)
	default:
		// An error's text may quote the input: clipped like everything logged.
		s.log.ErrorContext(r.Context(), "internal error", slog.String("path", pii.Clip(r.URL.Path, maxLogValue)), slog.String("error", pii.Clip(err.Error(), 1024)))
		writeProblem(w, r, Problem{Status: http.StatusInternalServerError, Code: CodeInternal, Detail: "服务器内部错误，请稍后重试；重试是安全的。"})
	}
}

// unavailable answers an outage of the database: 503 with Retry-After, the
// same on every route, and no internal_error (the request did nothing; the
// server itself is well). The request's log line names the cause.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		addLog(r.Context(), slog.String("unavailable", err.Error()))
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(db.RetryAfter.Seconds())))
	writeProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
		Detail: "数据库暂时不可用，请求未作处理；请在 Retry-After 秒后重试（重试是安全的）。"})
}
