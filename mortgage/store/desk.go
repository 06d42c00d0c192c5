package store

import (
	"context"
	"time"
)

// The desk's statements: a bundle waiting for centre staff, locked while
// they decide it, and the partner's supplied documents.

// DeskBundle is the stored bundle as the desk needs it.
type DeskBundle struct {
	ID          string    `db:"id"`
	PartnerID   string    `db:"partner_id"`
	CreditCode  string    `db:"credit_code"`
	Status      string    `db:"status"`
	Application []byte    `db:"application"`
	ReceivedAt  time.Time `db:"received_at"`
}

// LockDeskBundle reads and locks a bundle, with its partner's credit code;
// ErrNoRows if there is none. Two reviewers clicking at once queue here.
func (t *Tx) LockDeskBundle(ctx context.Context, id string) (DeskBundle, error) {
	var b DeskBundle
	err := t.GetContext(ctx, &b, `SELECT b.id, b.partner_id, p.credit_code, b.status, b.application, b.received_at
		FROM bundles b JOIN partners p ON p.id = b.partner_id WHERE b.id = $1 FOR UPDATE OF b`, id)
	return b, err
}

// MaterialKinds lists the kinds of a bundle's documents, supplied ones too.
func (t *Tx) MaterialKinds(ctx context.Context, bundleID string) ([]string, error) {
	var kinds []string
	err := t.selectContext(ctx, &kinds, `SELECT kind FROM materials WHERE bundle_id = $1`, bundleID)
	return kinds, err
}

// RecordApproval marks a desk bundle registered by staff member by, with
// its mortgage.
func (t *Tx) RecordApproval(ctx context.Context, bundleID string, mortgageID int64, at time.Time, by string) error {
	_, err := t.ExecContext(ctx, `UPDATE bundles SET status = 'registered', mortgage_id = $2, decided_at = $3, decided_by = $4
		WHERE id = $1`, bundleID, mortgageID, at, by)
	return err
}

// CloseDeskBundle ends a desk bundle without registering it; decidedBy
// and note "" are none.
func (t *Tx) CloseDeskBundle(ctx context.Context, bundleID, status string, reasons []byte, at time.Time, decidedBy, note string) error {
	_, err := t.ExecContext(ctx, `UPDATE bundles SET status = $2, reasons = $3, decided_at = $4, decided_by = NULLIF($5, ''), decision_note = NULLIF($6, '')
		WHERE id = $1`, bundleID, status, reasons, at, decidedBy, note)
	return err
}

// AssignDeskBundle gives a bundle to the staff member to, and reports
// false when to is no active reviewer or supervisor.
func (t *Tx) AssignDeskBundle(ctx context.Context, bundleID, to string) (bool, error) {
	res, err := t.ExecContext(ctx, `UPDATE bundles SET assigned_to = $2 WHERE id = $1
		AND EXISTS (SELECT 1 FROM staff WHERE username = $2 AND NOT disabled AND role IN ('reviewer', 'supervisor'))`, bundleID, to)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SupplyMaterial adds a document to a bundle, numbered after its last, and
// marks the open promise of its kind kept at at, in one round trip. It
// reports false when no promise of that kind is open: the document is
// stored all the same, so the caller then rolls back. m.SHA256 in
// lower-case hex.
func (t *Tx) SupplyMaterial(ctx context.Context, bundleID string, m Material, at time.Time) (bool, error) {
	res, err := t.ExecContext(ctx, `WITH m AS (
			INSERT INTO materials (bundle_id, seq, kind, file_name, media_type, sha256, content)
			SELECT $1, COALESCE(max(seq), 0) + 1, $2, $3, $4, decode($5, 'hex'), $6 FROM materials WHERE bundle_id = $1
			RETURNING seq)
		UPDATE promises SET fulfilled_at = $7, material_seq = (SELECT seq FROM m)
		WHERE bundle_id = $1 AND kind = $2 AND fulfilled_at IS NULL`,
		bundleID, m.Kind, m.FileName, m.MediaType, m.SHA256, m.Content, at)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// BundleOwner reads the partner a bundle belongs to; ErrNoRows if none.
func (s *Store) BundleOwner(ctx context.Context, bundleID string) (string, error) {
	var owner string
	err := s.DB.GetContext(ctx, &owner, `SELECT partner_id FROM bundles WHERE id = $1`, bundleID)
	return owner, err
}
