package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/mortgage/calendar"
)

// gone is an error the server has never heard of that says what it means.
type gone struct{}

func (gone) Error() string { return "moved" }
func (gone) Fault() *fault.Error {
	return &fault.Error{Kind: fault.Gone, Code: "moved", Detail: "已迁移。"}
}

// TestErrorsDescribeThemselves: the answer comes from the error, wrapped or
// not, without the server knowing its type.
func TestErrorsDescribeThemselves(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name       string
		err        error
		status     int
		code       mortgage.Code
		retryAfter string
	}{
		{"Unknown", fmt.Errorf("route: %w", gone{}), http.StatusGone, "moved", ""},
		{"NotAtDesk", fmt.Errorf("withdraw B-1: %w", mortgage.ErrNotAtDesk), http.StatusConflict, CodeNotAtDesk, ""},
		{"NotFound", fmt.Errorf("%w: B-1", mortgage.ErrNotFound), http.StatusNotFound, CodeNotFound, ""},
		{"CalendarNotLoaded", fmt.Errorf("%w: 2027", calendar.ErrNotLoaded), http.StatusServiceUnavailable, CodeCalendarNotLoaded, ""},
		{"Quota", &mortgage.QuotaError{Quota: 3, RetryAfter: 1500e6}, http.StatusTooManyRequests, CodeQuotaExceeded, "2"},
		{"Internal", errors.New("pq: syntax error"), http.StatusInternalServerError, CodeInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.error(w, httptest.NewRequest(http.MethodGet, "/v1/x", nil), tt.err)
			var p Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			// The error's own title, else its kind's.
			title := fault.KindOf(tt.err).Title()
			if fe, ok := fault.As(tt.err); ok && fe.Title != "" {
				title = fe.Title
			}
			if w.Code != tt.status || p.Status != tt.status || p.Code != tt.code || p.Title != title ||
				w.Header().Get("Retry-After") != tt.retryAfter {
				t.Errorf("answer %d %+v (Retry-After %q), want %d %s (Retry-After %q)", w.Code, p, w.Header().Get("Retry-After"), tt.status, tt.code, tt.retryAfter)
			}
		})
	}
}
