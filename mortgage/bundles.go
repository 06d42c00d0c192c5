package mortgage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

const bundleSQL = `SELECT b.id, b.reference, b.type, b.status, b.reasons, b.received_at, b.decided_at,
		b.desk_reasons, b.deadline,
		COALESCE((SELECT json_agg(json_build_object('kind', p.kind, 'dueOn', p.due_on, 'fulfilledAt', p.fulfilled_at) ORDER BY p.kind)
			FROM promises p WHERE p.bundle_id = b.id), '[]') AS promises,
		m.certificate_number, m.registered_at, m.recording_officer, m.cancelled_at, m.cancelled_by,
		f.amount_fen, f.payer, f.basis,
		COALESCE((SELECT json_agg(json_build_object('unitNumber', mu.unit_number, 'rank', mu.rank) ORDER BY mu.unit_number)
			FROM mortgage_units mu WHERE mu.mortgage_id = m.id), '[]') AS ranks
	FROM bundles b
	LEFT JOIN mortgages m ON m.id = b.mortgage_id
	LEFT JOIN fees f ON f.bundle_id = b.id
	WHERE b.partner_id = $1 AND `

type bundleRow struct {
	ID               string         `db:"id"`
	Reference        string         `db:"reference"`
	Type             Type           `db:"type"`
	Status           Status         `db:"status"`
	Reasons          []byte         `db:"reasons"`
	ReceivedAt       time.Time      `db:"received_at"`
	DecidedAt        sql.NullTime   `db:"decided_at"`
	Certificate      sql.NullString `db:"certificate_number"`
	RegisteredAt     sql.NullTime   `db:"registered_at"`
	RecordingOfficer sql.NullString `db:"recording_officer"`
	CancelledAt      sql.NullTime   `db:"cancelled_at"`
	CancelledBy      sql.NullString `db:"cancelled_by"`
	FeeFen           sql.NullInt64  `db:"amount_fen"`
	FeePayer         sql.NullString `db:"payer"`
	FeeBasis         sql.NullString `db:"basis"`
	Ranks            []byte         `db:"ranks"`
	DeskReasons      []byte         `db:"desk_reasons"`
	Deadline         sql.NullTime   `db:"deadline"`
	Promises         []byte         `db:"promises"`
}

// Bundle returns a partner's bundle by id; another partner's bundle is ErrNotFound.
func (s *Service) Bundle(ctx context.Context, partnerID, id string) (*Decision, error) {
	return s.bundle(ctx, bundleSQL+"b.id = $2", partnerID, id)
}

// BundleByReference returns a partner's bundle by the partner's own reference.
func (s *Service) BundleByReference(ctx context.Context, partnerID, reference string) (*Decision, error) {
	return s.bundle(ctx, bundleSQL+"b.reference = $2", partnerID, reference)
}

func (s *Service) bundle(ctx context.Context, query, partnerID, key string) (*Decision, error) {
	var r bundleRow
	if err := s.DB.GetContext(ctx, &r, query, partnerID, key); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	d := &Decision{BundleID: r.ID, Reference: r.Reference, Type: r.Type, Status: r.Status, ReceivedAt: r.ReceivedAt, DecidedAt: r.DecidedAt.Time}
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
		if r.Type.IsFirst() {
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
		d.Fee = &Fee{AmountFen: r.FeeFen.Int64, Payer: r.FeePayer.String, Basis: r.FeeBasis.String}
	}
	return d, nil
}
