package centrejson

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"mortgaged/mortgage"
)

// batch is the wire form of an uploaded batch (docs/batches.md): the answer
// to the upload and to GET /v1/batches/{id}, and the payload of the
// batch.finished event. docs/formats/batch-v1.schema.json describes it.
type batch struct {
	BatchID     string        `json:"batchId"`
	BatchNumber string        `json:"batchNumber"`
	BatchDate   string        `json:"batchDate"`
	TotalAmount string        `json:"totalAmount"`
	SHA256      string        `json:"sha256"`
	Size        int64         `json:"size"`
	Status      string        `json:"status"`
	Counts      batchCounts   `json:"counts"`
	UploadedAt  string        `json:"uploadedAt"`
	StartedAt   string        `json:"startedAt,omitempty"`
	FinishedAt  string        `json:"finishedAt,omitempty"`
	Results     string        `json:"results,omitempty"` // the results file, once finished
	Records     []batchRecord `json:"records,omitempty"`
	Next        string        `json:"next,omitempty"` // the next page of records
}

type batchCounts struct {
	Total      int `json:"total"`
	Registered int `json:"registered"`
	Rejected   int `json:"rejected"`
	Desk       int `json:"desk"`
	Pending    int `json:"pending"`
}

type batchRecord struct {
	Index             int           `json:"index"` // 1-based, as the record's position in the file (XH)
	Reference         string        `json:"reference"`
	Status            string        `json:"status"`
	BundleID          string        `json:"bundleId,omitempty"`
	CertificateNumber string        `json:"certificateNumber,omitempty"`
	RegisteredAt      string        `json:"registeredAt,omitempty"`
	Reasons           []batchReason `json:"reasons"`
}

// batchReason names the field both as the element path in the uploaded
// file and, where there is one, as the canonical field.
type batchReason struct {
	Field          string        `json:"field"`
	CanonicalField string        `json:"canonicalField,omitempty"`
	Code           mortgage.Code `json:"code"`
	Message        string        `json:"message"`
}

// BatchPage is a page of a batch's records in an answer.
type BatchPage struct {
	Records []mortgage.BatchRecord
	Next    string // the URL of the next page; "" on the last
	// Path names a canonical field of the record at index (0-based) as the
	// partner's file does: fundbatch.FieldPath.
	Path func(index int, canonical string) string
}

// EncodeBatch writes a batch's status and counts and, with page, a page of
// its records. Times are in loc.
func EncodeBatch(b *mortgage.Batch, page *BatchPage, loc *time.Location) ([]byte, error) {
	return json.Marshal(wireBatch(b, page, loc))
}

func wireBatch(b *mortgage.Batch, page *BatchPage, loc *time.Location) batch {
	ts := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	w := batch{BatchID: b.ID, BatchNumber: b.Number, BatchDate: b.Date.String(), TotalAmount: mortgage.FormatYuan(b.TotalFen),
		SHA256: hex.EncodeToString(b.SHA256), Size: b.SizeBytes, Status: string(b.Status),
		Counts:     batchCounts{Total: b.Records, Registered: b.Registered, Rejected: b.Rejected, Desk: b.Desk, Pending: b.Pending()},
		UploadedAt: ts(b.UploadedAt)}
	if b.StartedAt != nil {
		w.StartedAt = ts(*b.StartedAt)
	}
	if b.FinishedAt != nil {
		w.FinishedAt = ts(*b.FinishedAt)
	}
	if b.Status == mortgage.BatchFinished {
		w.Results = "/v1/batches/" + b.ID + "/results"
	}
	if page == nil {
		return w
	}
	w.Records, w.Next = make([]batchRecord, 0, len(page.Records)), page.Next
	for _, r := range page.Records {
		wr := batchRecord{Index: r.Index + 1, Reference: r.Reference, Status: string(r.Status), BundleID: r.BundleID,
			CertificateNumber: r.CertificateNumber, Reasons: []batchReason{}}
		if r.RegisteredAt != nil {
			wr.RegisteredAt = ts(*r.RegisteredAt)
		}
		for _, is := range r.Reasons {
			reason := batchReason{Field: is.Field, Code: is.Code, Message: is.Message}
			if is.Field != "" && is.Field[0] != '/' && page.Path != nil {
				reason.Field, reason.CanonicalField = page.Path(r.Index, is.Field), is.Field
			}
			wr.Reasons = append(wr.Reasons, reason)
		}
		w.Records = append(w.Records, wr)
	}
	return w
}

// BatchPageURL is the URL of the page of a batch's records after index
// (1-based; 0 for the first page).
func BatchPageURL(batchID string, after, limit int) string {
	return "/v1/batches/" + batchID + "?after=" + strconv.Itoa(after) + "&limit=" + strconv.Itoa(limit)
}
