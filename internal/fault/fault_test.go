package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"mortgaged/internal/fault"
)

type described struct{}

func (described) Error() string { return "described" }
func (described) Fault() *fault.Error {
	return &fault.Error{Kind: fault.Conflict, Code: "taken"}
}

func TestKindOf(t *testing.T) {
	notFound := &fault.Error{Kind: fault.NotFound, Code: "not_found", Err: errors.New("not found")}
	tests := []struct {
		name string
		err  error
		want fault.Kind
	}{
		{"Plain", errors.New("boom"), fault.Internal},
		{"Error", notFound, fault.NotFound},
		{"Wrapped", fmt.Errorf("bundle B-1: %w", notFound), fault.NotFound},
		{"Describer", fmt.Errorf("submit: %w", described{}), fault.Conflict},
		{"OuterFirst", &fault.Error{Kind: fault.Gone, Err: notFound}, fault.Gone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fault.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	if !errors.Is(fmt.Errorf("x: %w", notFound), notFound) || notFound.Error() != "not found" {
		t.Error("a sentinel *Error must match errors.Is and keep its English text")
	}
}
