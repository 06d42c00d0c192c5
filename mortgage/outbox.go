package mortgage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"mortgaged/mortgage/store"
)

// EventType names what happened, for a partner.
type EventType string

// Event types pushed to and pulled by partners.
const (
	EventRegistered           EventType = "bundle.registered"     // registered; first registrations carry the certificate
	EventRejected             EventType = "bundle.rejected"       // refused, with every reason
	EventCertificateCancelled EventType = "certificate.cancelled" // the mortgage behind a certificate was cancelled
	EventDesk                 EventType = "bundle.desk"           // sent to centre staff, with reasons and deadline
	EventWithdrawn            EventType = "bundle.withdrawn"      // withdrawn by the partner before staff decided
	EventBatchFinished        EventType = "batch.finished"        // every record of an uploaded batch is decided; carries the batch and its counts
)

// IssuedCertificate is an electronic certificate as issued: the exact bytes
// in each rendering with their detached signatures.
type IssuedCertificate struct {
	Number           string     `json:"number"`
	VerificationCode string     `json:"verificationCode"`
	Status           string     `json:"status"` // valid or cancelled
	KeyID            string     `json:"keyId"`
	IssuedAt         time.Time  `json:"issuedAt"`
	CancelledAt      *time.Time `json:"cancelledAt,omitempty"`
	JSON             []byte     `json:"-"`
	JSONSignature    []byte     `json:"-"`
	XML              []byte     `json:"-"`
	XMLSignature     []byte     `json:"-"`
}

// Event is one thing a partner must hear about. Its payload is encoded once,
// in the partner's format, when it is written, so every push and every pull
// carries the same bytes.
type Event struct {
	ID          string
	Type        EventType
	PartnerID   string
	Subject     string // bundle id, or certificate number
	OccurredAt  time.Time
	Decision    *Decision
	Certificate *IssuedCertificate
	Batch       *Batch // batch.finished

	format string // the partner's wire format when the caller knows it
}

// EventEncoder renders an event in the named wire format (the partner's)
// and gives the payload's media type, which is stored with it.
type EventEncoder func(format string, e Event) (payload []byte, mediaType string, err error)

// EncodeEventJSON is the plain JSON rendering of an event, used when no
// partner format is configured (tests, tools).
func EncodeEventJSON(_ string, e Event) ([]byte, string, error) {
	b, err := json.Marshal(struct {
		ID          string             `json:"id"`
		Type        EventType          `json:"type"`
		OccurredAt  time.Time          `json:"occurredAt"`
		Decision    *Decision          `json:"decision,omitempty"`
		Certificate *IssuedCertificate `json:"certificate,omitempty"`
		Batch       *Batch             `json:"batch,omitempty"`
	}{e.ID, e.Type, e.OccurredAt, e.Decision, e.Certificate, e.Batch})
	return b, "application/json", err
}

// NewEventID makes a stable, unguessable event id; partners deduplicate on it.
func NewEventID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "evt_" + hex.EncodeToString(b[:])
}

// Tx is what writing events needs of the caller's transaction: a
// *sqlx.Tx, or registration's prepared one.
type Tx = store.Queryer

// Enqueue writes events in the caller's transaction, as the domain's own
// changes do (the batch runner's batch.finished).
func (s *Service) Enqueue(ctx context.Context, tx Tx, events ...Event) error {
	return s.enqueue(ctx, tx, events...)
}

// enqueue writes events in the caller's transaction: they commit with the
// change that caused them or not at all (PROMISES D1). A partner's format
// the caller did not know is read in the same transaction: never on a
// second pool connection, which under load would wait for one while this
// transaction holds its own and its locks.
func (s *Service) enqueue(ctx context.Context, tx Tx, events ...Event) error {
	if s.EncodeEvent == nil {
		return fmt.Errorf("no event encoder configured")
	}
	formats := map[string]string{}
	for _, e := range events {
		format := e.format
		if format == "" {
			format = formats[e.PartnerID]
		}
		if format == "" {
			var err error
			if format, err = store.PartnerFormat(ctx, tx, e.PartnerID); err != nil {
				return fmt.Errorf("format of partner %s: %w", e.PartnerID, err)
			}
		}
		formats[e.PartnerID] = format
		payload, mediaType, err := s.EncodeEvent(format, e)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.Type, err)
		}
		row := store.EventRow{ID: e.ID, PartnerID: e.PartnerID, Type: string(e.Type), Subject: e.Subject, OccurredAt: e.OccurredAt, Payload: payload, MediaType: mediaType}
		if err := store.InsertEvent(ctx, tx, row); err != nil {
			return fmt.Errorf("insert event %s: %w", e.Type, err)
		}
	}
	return nil
}

// decisionEvents are the events a fresh decision causes.
func decisionEvents(sub Submitter, d *Decision, cert *IssuedCertificate, cancelled *IssuedCertificate) []Event {
	typ, at := EventRegistered, d.DecidedAt
	switch d.Status {
	case StatusRejected:
		typ = EventRejected
	case StatusDesk:
		typ, at = EventDesk, d.ReceivedAt
	case StatusWithdrawn:
		typ = EventWithdrawn
	}
	events := []Event{{ID: NewEventID(), Type: typ, PartnerID: sub.PartnerID, Subject: d.BundleID, OccurredAt: at, Decision: d, Certificate: cert, format: sub.Format}}
	if cancelled != nil {
		events = append(events, Event{ID: NewEventID(), Type: EventCertificateCancelled, PartnerID: sub.PartnerID,
			Subject: cancelled.Number, OccurredAt: d.DecidedAt, Decision: d, Certificate: cancelled, format: sub.Format})
	}
	return events
}
