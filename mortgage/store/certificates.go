package store

import (
	"context"
	"database/sql"
	"time"
)

const (
	certificateColumns = `number, partner_id, verification_code, status, issued_at, cancelled_at, key_id,
			json_document, json_signature, xml_document, xml_signature`
	certificateByPartnerSQL = `SELECT ` + certificateColumns + ` FROM certificates WHERE number = $1 AND partner_id = $2`
	certificateByCodeSQL    = `SELECT ` + certificateColumns + ` FROM certificates WHERE number = $1 AND verification_code = $2`
)

// CertificateRow is a certificates row as read back.
type CertificateRow struct {
	Number           string       `db:"number"`
	PartnerID        string       `db:"partner_id"`
	VerificationCode string       `db:"verification_code"`
	Status           string       `db:"status"`
	IssuedAt         time.Time    `db:"issued_at"`
	CancelledAt      sql.NullTime `db:"cancelled_at"`
	KeyID            string       `db:"key_id"`
	JSON             []byte       `db:"json_document"`
	JSONSignature    []byte       `db:"json_signature"`
	XML              []byte       `db:"xml_document"`
	XMLSignature     []byte       `db:"xml_signature"`
}

// Certificate reads a partner's certificate by its number; ErrNoRows when
// the partner has none of that number.
func (s *Store) Certificate(ctx context.Context, number, partnerID string) (CertificateRow, error) {
	var r CertificateRow
	err := s.DB.GetContext(ctx, &r, certificateByPartnerSQL, number, partnerID)
	return r, err
}

// CertificateByCode reads a certificate by its number and verification
// code, in one query: a wrong code and an unknown number take the same path.
func (s *Store) CertificateByCode(ctx context.Context, number, code string) (CertificateRow, error) {
	var r CertificateRow
	err := s.DB.GetContext(ctx, &r, certificateByCodeSQL, number, code)
	return r, err
}
