package store

import (
	"context"
	"database/sql"
	"time"
)

// Queryer is a transaction events are written in: a Tx, or a caller's
// *sqlx.Tx (the batch runner's).
type Queryer interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const (
	insertEventSQL = `INSERT INTO events (id, partner_id, type, subject, occurred_at, payload, media_type, next_attempt_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $5)`
	partnerFormatSQL = `SELECT format FROM partners WHERE id = $1`
)

// EventRow is an outbox event as written: its payload already encoded in
// the partner's format.
type EventRow struct {
	ID, PartnerID, Type, Subject string
	OccurredAt                   time.Time
	Payload                      []byte
	MediaType                    string
}

// PartnerFormat reads a partner's wire format in tx.
func PartnerFormat(ctx context.Context, tx Queryer, partnerID string) (string, error) {
	var format string
	err := tx.GetContext(ctx, &format, partnerFormatSQL, partnerID)
	return format, err
}

// InsertEvent writes an event into the outbox in tx, due at once.
func InsertEvent(ctx context.Context, tx Queryer, e EventRow) error {
	_, err := tx.ExecContext(ctx, insertEventSQL, e.ID, e.PartnerID, e.Type, e.Subject, e.OccurredAt, e.Payload, e.MediaType)
	return err
}
