package mortgage

import (
	"strconv"
	"time"
)

// BatchStatus is where an uploaded batch stands.
type BatchStatus string

// Batch statuses.
const (
	BatchPending    BatchStatus = "pending"    // stored, no record decided yet
	BatchProcessing BatchStatus = "processing" // a node has started on it; some records may be decided
	BatchFinished   BatchStatus = "finished"   // every record decided
)

// BatchHeader is what a batch file declares about itself, once verified.
type BatchHeader struct {
	Number   string `json:"batchNumber"` // the partner's: a re-upload of the same number is the same batch
	Date     Date   `json:"batchDate"`
	Records  int    `json:"records"`
	TotalFen int64  `json:"totalFen"`
}

// Batch is an uploaded batch file and how far its processing has got.
type Batch struct {
	ID        string `json:"batchId"`
	PartnerID string `json:"partnerId"`
	BatchHeader
	SHA256     []byte      `json:"-"` // of the file's exact bytes
	SizeBytes  int64       `json:"size"`
	Status     BatchStatus `json:"status"`
	Registered int         `json:"registered"`
	Rejected   int         `json:"rejected"`
	Desk       int         `json:"desk"`
	UploadedAt time.Time   `json:"uploadedAt"`
	StartedAt  *time.Time  `json:"startedAt,omitempty"`
	FinishedAt *time.Time  `json:"finishedAt,omitempty"`
}

// Done is how many records have been decided.
func (b *Batch) Done() int { return b.Registered + b.Rejected + b.Desk }

// Pending is how many records are still to be decided.
func (b *Batch) Pending() int { return b.Records - b.Done() }

// RecordReference is the bundle reference of the record at index (0-based):
// the batch number and the record's position, so a record decided again
// after a crash replays its bundle instead of registering twice. A batch
// number too long for that uses the batch id instead. References with a
// "#" are thereby reserved for batch records.
func (b *Batch) RecordReference(index int) string {
	suffix := "#" + strconv.Itoa(index+1)
	if len(b.Number)+len(suffix) <= 64 {
		return b.Number + suffix
	}
	return b.ID + suffix
}

// BatchRecord is what became of one record of a batch.
type BatchRecord struct {
	Index             int    // 0-based position in the file
	Reference         string // the partner's own reference for the record, as written
	Status            Status // registered, rejected or desk
	BundleID          string // the bundle made for the record; "" when it was refused before one was made
	CertificateNumber string // registered: the registration certificate
	RegisteredAt      *time.Time
	// Reasons say why a record was rejected or sent to staff: canonical
	// field paths, or element paths of the file (starting with "/").
	Reasons   Issues
	DecidedAt time.Time
}
