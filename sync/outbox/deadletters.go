package outbox

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
)

// DeadLetterStore is the staff console's view of the dead letters: it
// lists them and puts one back in the queue with its audit record.
type DeadLetterStore struct {
	DB *sqlx.DB
}

// List lists the dead letters of one partner or ("") of all, oldest first.
func (s DeadLetterStore) List(ctx context.Context, partnerID string, limit int) ([]DeadLetter, error) {
	return DeadLetters(ctx, s.DB, partnerID, limit)
}

// Redeliver puts dead letter id back in its partner's queue (Redeliver)
// and records who did it and when, in one transaction: ErrNotFound or
// ErrNotDead when it cannot.
func (s DeadLetterStore) Redeliver(ctx context.Context, id, actor string, at time.Time) error {
	return db.WithTx(ctx, s.DB, nil, func(tx *sqlx.Tx) error {
		if err := Redeliver(ctx, tx, id); err != nil {
			return err
		}
		return db.Audit(ctx, tx, db.AuditEntry{At: at, Actor: actor, Action: "event.redeliver", Subject: id})
	})
}
