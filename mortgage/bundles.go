package mortgage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mortgaged/mortgage/store"
)

// Bundle returns a partner's bundle by id; another partner's bundle is ErrNotFound.
func (s *Service) Bundle(ctx context.Context, partnerID, id string) (*Decision, error) {
	return s.bundle(s.store().Bundle(ctx, partnerID, id))
}

// BundleByReference returns a partner's bundle by the partner's own reference.
func (s *Service) BundleByReference(ctx context.Context, partnerID, reference string) (*Decision, error) {
	return s.bundle(s.store().BundleByReference(ctx, partnerID, reference))
}

// bundle is the decision a bundle read back records.
func (s *Service) bundle(r store.BundleRow, err error) (*Decision, error) {
	if err != nil {
		if errors.Is(err, store.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	d := &Decision{BundleID: r.ID, Reference: r.Reference, Type: Type(r.Type), Status: Status(r.Status), ReceivedAt: r.ReceivedAt, DecidedAt: r.DecidedAt.Time}
	if err := json.Unmarshal(r.Reasons, &d.Reasons); err != nil {
		return nil, fmt.Errorf("bundle %s reasons: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.DeskReasons, &d.DeskReasons); err != nil {
		return nil, fmt.Errorf("bundle %s desk reasons: %w", r.ID, err)
	}
	if len(d.DeskReasons) == 0 {
		d.DeskReasons = nil
	}
	if r.Deadline.Valid {
		d.Deadline = &r.Deadline.Time
	}
	var promises []struct {
		Kind        string     `json:"kind"`
		DueOn       string     `json:"dueOn"`
		FulfilledAt *time.Time `json:"fulfilledAt"`
	}
	if err := json.Unmarshal(r.Promises, &promises); err != nil {
		return nil, fmt.Errorf("bundle %s promises: %w", r.ID, err)
	}
	for _, p := range promises {
		due, err := ParseDate(p.DueOn)
		if err != nil {
			return nil, fmt.Errorf("bundle %s promise due date %q: %w", r.ID, p.DueOn, err)
		}
		d.Promises = append(d.Promises, PromiseState{Kind: p.Kind, DueOn: due, FulfilledAt: p.FulfilledAt})
	}
	if d.Status == StatusRegistered && r.Certificate.Valid {
		if d.Type.IsFirst() {
			d.Registration = &Registration{CertificateNumber: r.Certificate.String, RegisteredAt: r.RegisteredAt.Time, RecordingOfficer: r.RecordingOfficer.String}
			if err := json.Unmarshal(r.Ranks, &d.Registration.Ranks); err != nil {
				return nil, fmt.Errorf("bundle %s ranks: %w", r.ID, err)
			}
			for i := range d.Registration.Ranks {
				d.Registration.Ranks[i].UnitNumber = strings.TrimSpace(d.Registration.Ranks[i].UnitNumber)
			}
		} else {
			d.Cancelled = &Cancelled{CertificateNumber: r.Certificate.String, CancelledAt: r.CancelledAt.Time, RecordingOfficer: r.CancelledBy.String}
		}
	}
	if r.FeeFen.Valid {
		d.Fee = &Fee{AmountFen: r.FeeFen.Int64, Payer: r.FeePayer.String, Basis: r.FeeBasis.String, Cases: 1, Rule: r.FeeRule.String}
		if r.FeeCases.Valid { // fees charged before 0017 counted one 件
			d.Fee.Cases = int(r.FeeCases.Int64)
		}
	}
	return d, nil
}
