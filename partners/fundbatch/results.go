package fundbatch

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/problemxml"
)

// ResultStatus is what became of one record.
type ResultStatus string

// Record outcomes, written as ZT 1, 2, 3.
const (
	ResultRegistered ResultStatus = "registered" // 1 已登簿
	ResultRejected   ResultStatus = "rejected"   // 2 不予登记（或未通过校验）
	ResultStaff      ResultStatus = "staff"      // 3 转人工审核（容缺受理、异常）
)

var statusCodes = map[ResultStatus]string{ResultRegistered: "1", ResultRejected: "2", ResultStaff: "3"}

// Result is the outcome of one record.
type Result struct {
	Index             int // 0-based position of the record in the uploaded file
	Reference         string
	Status            ResultStatus
	BundleID          string    // the centre's bundle, when one was made
	CertificateNumber string    // registered: the registration certificate (BDCDJZMH)
	RegisteredAt      time.Time // registered: when it was written into the register
	// Reasons say why a record was rejected or sent to staff. A field is a
	// canonical path within the record (units[0].unitNumber) or, starting
	// with "/", an element path already (Record.Issues may hold both).
	Reasons mortgage.Issues
}

// ResultsHeader opens a results file: the counts must agree with the
// results written, as the upload's did with its records.
type ResultsHeader struct {
	BatchNumber string
	Records     int
	Registered  int
	Rejected    int
	Staff       int
	GeneratedAt time.Time
}

// ResultsWriter streams a results file, one record's result at a time, so
// 100,000 results never sit in memory together.
type ResultsWriter struct {
	w      io.Writer
	h      ResultsHeader
	loc    *time.Location
	counts map[ResultStatus]int
	seen   map[int]bool
	err    error
}

// NewResultsWriter writes the declaration and the header (times in
// business time, loc).
func NewResultsWriter(w io.Writer, h ResultsHeader, loc *time.Location) (*ResultsWriter, error) {
	if h.Registered+h.Rejected+h.Staff != h.Records {
		return nil, fmt.Errorf("fundbatch: results header: %d registered + %d rejected + %d to staff is not %d records",
			h.Registered, h.Rejected, h.Staff, h.Records)
	}
	rw := &ResultsWriter{w: w, h: h, loc: loc, counts: map[ResultStatus]int{}, seen: map[int]bool{}}
	head := etree.NewElement("PCXX")
	problemxml.Text(head, "PCH", h.BatchNumber)
	problemxml.Text(head, "JLS", strconv.Itoa(h.Records))
	problemxml.Text(head, "DJS", strconv.Itoa(h.Registered))
	problemxml.Text(head, "BYDJS", strconv.Itoa(h.Rejected))
	problemxml.Text(head, "ZRGS", strconv.Itoa(h.Staff))
	problemxml.Text(head, "SCSJ", h.GeneratedAt.In(loc).Format("20060102150405"))
	rw.write([]byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + resultsRoot + ">\n"))
	rw.element(head)
	return rw, rw.err
}

const resultsRoot = "GJJDYPLJG" // 公积金抵押批量结果

// Write adds one record's result.
func (rw *ResultsWriter) Write(r Result) error {
	if rw.err != nil {
		return rw.err
	}
	code, ok := statusCodes[r.Status]
	switch {
	case !ok:
		return fmt.Errorf("fundbatch: result for record %d: unknown status %q", r.Index, r.Status)
	case r.Index < 0 || r.Index >= rw.h.Records:
		return fmt.Errorf("fundbatch: result for record %d: the batch has %d records", r.Index, rw.h.Records)
	case rw.seen[r.Index]:
		return fmt.Errorf("fundbatch: record %d has two results", r.Index)
	case r.Status == ResultRegistered && r.CertificateNumber == "":
		return fmt.Errorf("fundbatch: record %d is registered without a certificate number", r.Index)
	case r.Status != ResultRegistered && len(r.Reasons) == 0:
		return fmt.Errorf("fundbatch: record %d is %s without a reason", r.Index, r.Status)
	}
	rw.seen[r.Index] = true
	rw.counts[r.Status]++
	el := etree.NewElement("JG")
	problemxml.Text(el, "XH", strconv.Itoa(r.Index+1))
	problemxml.Text(el, "YWH", r.Reference)
	problemxml.Text(el, "ZT", code)
	problemxml.Text(el, "SLBH", r.BundleID)
	if r.Status == ResultRegistered {
		problemxml.Text(el, "BDCDJZMH", r.CertificateNumber)
		problemxml.Text(el, "DJSJ", r.RegisteredAt.In(rw.loc).Format("20060102150405"))
	}
	for _, is := range r.Reasons {
		partner, canonical := problemxml.PartnerField(is.Field, func(c string) string { return FieldPath(r.Index, c) })
		y := el.CreateElement("YY")
		problemxml.Text(y, "ZDLJ", partner)
		problemxml.Text(y, "ZD", canonical)
		problemxml.Text(y, "DM", string(is.Code))
		problemxml.Text(y, "SM", is.Message)
	}
	rw.element(el)
	return rw.err
}

// Close ends the file; it is an error if the results written do not add
// up to the header's counts.
func (rw *ResultsWriter) Close() error {
	if rw.err != nil {
		return rw.err
	}
	if len(rw.seen) != rw.h.Records || rw.counts[ResultRegistered] != rw.h.Registered ||
		rw.counts[ResultRejected] != rw.h.Rejected || rw.counts[ResultStaff] != rw.h.Staff {
		return fmt.Errorf("fundbatch: results written (%d: %d registered, %d rejected, %d to staff) disagree with the header (%d: %d, %d, %d)",
			len(rw.seen), rw.counts[ResultRegistered], rw.counts[ResultRejected], rw.counts[ResultStaff],
			rw.h.Records, rw.h.Registered, rw.h.Rejected, rw.h.Staff)
	}
	rw.write([]byte("</" + resultsRoot + ">\n"))
	return rw.err
}

// element writes one element of the root, indented as it would be in the
// whole document: it is serialised inside a copy of the root element, whose
// own tags are then cut off, so text values are never touched.
func (rw *ResultsWriter) element(el *etree.Element) {
	doc := etree.NewDocument()
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	wrapper := doc.CreateElement(resultsRoot)
	wrapper.AddChild(el)
	doc.Indent(2)
	var b bytes.Buffer
	if _, err := doc.WriteTo(&b); err != nil {
		rw.err = err
		return
	}
	open, end := "<"+resultsRoot+">\n", "</"+resultsRoot+">\n"
	out := b.Bytes()
	if !bytes.HasPrefix(out, []byte(open)) || !bytes.HasSuffix(out, []byte(end)) {
		rw.err = fmt.Errorf("fundbatch: unexpected serialisation of %s", el.Tag)
		return
	}
	rw.write(out[len(open) : len(out)-len(end)])
}

func (rw *ResultsWriter) write(b []byte) {
	if rw.err == nil {
		_, rw.err = rw.w.Write(b)
	}
}

// EncodeProblem writes a fault in the whole batch (an *xmlsafe.Error from
// Decode: its Field is already an element path) as application/problem+xml.
func EncodeProblem(p fault.Problem) ([]byte, error) {
	return problemxml.Encode(p, func(c string) string { return "/" + rootName + "/" + c })
}
