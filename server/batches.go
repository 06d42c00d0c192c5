package server

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/mortgage/batches"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/fundbatch"
	"mortgaged/partners/problemxml"
	"mortgaged/partners/xmlsafe"
)

// DefaultMaxBatchBytes bounds one batch upload: a 100,000-record file is
// about 135 MB.
const DefaultMaxBatchBytes = 512 << 20

// batchUploadTime is how long an upload may take to arrive, past the
// server's general read timeout: 512 MB over a 10 Mbit/s link is 7 minutes.
const batchUploadTime = 30 * time.Minute

// batchPageSize and batchPageMax bound a page of per-record results.
const (
	batchPageSize = 100
	batchPageMax  = 1000
)

// batchStore keeps the uploads in the service's database.
func (s *Server) batchStore() *batches.Store { return &batches.Store{Service: s.Service} }

// registerBatchRoutes serves batch uploads (docs/batches.md).
func (s *Server) registerBatchRoutes(r *mux.Router) {
	r.HandleFunc("/batches/{id}/results", s.batchResults).Methods(http.MethodGet)
	r.HandleFunc("/batches/{id}", s.getBatch).Methods(http.MethodGet)
	r.HandleFunc("/batches", s.uploadBatch).Methods(http.MethodPost)
}

// uploadBatch stores a batch file as it streams in, verifying it on the
// way (structure, header, count, total): 202 with the new batch, 200 with
// the existing one for the same batch number or the same file, 422 naming
// the element path when the file cannot be accepted, and then nothing is
// stored. Records are decided later by the batch worker.
func (s *Server) uploadBatch(w http.ResponseWriter, r *http.Request) {
	p := partnerFrom(r.Context())
	if p.Kind != partners.KindFundCentre && p.Format != partners.FormatFundBatch {
		s.batchError(w, r, &fault.Error{Kind: fault.Forbidden, Code: CodeForbidden,
			Detail: "批量上传仅供住房公积金管理中心（及登记为公积金批量格式的机构）使用；单件申请请用 POST /v1/bundles。"})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != fundbatch.MediaType && mt != "text/xml") {
		s.batchError(w, r, &fault.Error{Kind: fault.UnsupportedMediaType, Code: CodeMediaType,
			Detail: "Content-Type 必须是 application/xml（公积金抵押批量文件 v1）。"})
		return
	}
	// A large file over a slow link outlasts the server's read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(batchUploadTime))
	limit := s.MaxBatchBytes
	if limit <= 0 {
		limit = DefaultMaxBatchBytes
	}
	up, err := s.batchStore().NewUpload(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	defer up.Abort()
	src := &uploadSource{body: http.MaxBytesReader(w, r.Body, limit), sum: sha256.New(), store: up}
	h, verr := fundbatch.Verify(src)
	if verr != nil {
		src.store = nil // keep reading, store nothing more
	}
	// Read to the end: the signed digest is checked at the end of the
	// body, and the hash and the stored copy must cover every byte.
	_, _ = io.Copy(io.Discard, src)
	switch {
	case src.readErr != nil:
		s.uploadReadError(w, r, src.readErr)
		return
	case src.storeErr != nil:
		s.error(w, r, src.storeErr)
		return
	case verr != nil:
		s.batchFileProblem(w, r, verr)
		return
	case !holdsMortgagee(p, h.Mortgagee.IDNumber, ""):
		s.batchError(w, r, fileFault(&xmlsafe.Error{Code: fundbatch.CodeHeader, Unacceptable: true, Field: "/GJJDYPL/PCXX/DYQRZJH",
			Message: "批次信息中的抵押权人 DYQRZJH 必须是上传机构本身（统一社会信用代码 " + p.CreditCode + "）或登记中心为其登记的抵押权人"}))
		return
	case !holdsMortgagee(p, h.Mortgagee.IDNumber, h.Mortgagee.Name):
		s.batchError(w, r, fileFault(&xmlsafe.Error{Code: fundbatch.CodeHeader, Unacceptable: true, Field: "/GJJDYPL/PCXX/DYQRMC",
			Message: "批次信息中的抵押权人名称 DYQRMC 与登记中心为统一社会信用代码 " + h.Mortgagee.IDNumber + " 登记的名称不一致"}))
		return
	}
	b, created, err := up.Commit(p.ID, mortgage.BatchHeader{Number: h.BatchNumber, Date: h.Date, Records: h.Records, TotalFen: h.TotalFen}, src.sum.Sum(nil))
	if err != nil {
		s.error(w, r, err)
		return
	}
	addLog(r.Context(), slog.String("batch", b.ID), slog.String("batch_number", b.Number), slog.Int("records", b.Records))
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
		addLog(r.Context(), slog.Bool("replayed", true))
	}
	w.Header().Set("Location", "/v1/batches/"+b.ID)
	s.writeBatch(w, r, status, b, nil)
}

// uploadSource is the request body on its way to the verifier: every byte
// read is hashed and stored. A failed read, or a failed store, is kept so
// the handler answers for it rather than for what the verifier made of it.
type uploadSource struct {
	body     io.Reader
	sum      hash.Hash
	store    io.Writer // nil once nothing more is to be stored
	readErr  error
	storeErr error
}

func (u *uploadSource) Read(p []byte) (int, error) {
	if u.readErr != nil {
		return 0, u.readErr
	}
	if u.storeErr != nil {
		return 0, u.storeErr
	}
	n, err := u.body.Read(p)
	u.sum.Write(p[:n])
	if u.store != nil && n > 0 {
		if _, werr := u.store.Write(p[:n]); werr != nil {
			u.storeErr = werr
			return n, werr
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		u.readErr = err
	}
	return n, err
}

// uploadReadError answers for a body that could not be read whole: too
// large, not the body that was signed, or cut off.
func (s *Server) uploadReadError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.Is(err, errBodyDigest) || errors.As(err, &mbe) {
		s.error(w, r, err)
		return
	}
	s.batchError(w, r, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest,
		Detail: "请求体未能完整读取（连接中断？）；未保存任何内容，请重新上传。"})
}

// batchFileProblem answers for a file the verifier refused.
func (s *Server) batchFileProblem(w http.ResponseWriter, r *http.Request, err error) {
	var xe *xmlsafe.Error
	if !errors.As(err, &xe) {
		s.error(w, r, err)
		return
	}
	s.batchError(w, r, fileFault(xe))
}

// fileFault is a fault in the file as a whole (xmlsafe.Error's kinds: 422
// when the file is well-formed but cannot be accepted, 413 past a size cap,
// 400 when it is not a readable batch file at all), saying that nothing was
// stored.
func fileFault(xe *xmlsafe.Error) *fault.Error {
	fe := xe.Fault()
	fe.Detail += "。未保存任何内容。"
	if fe.Kind == fault.Invalid {
		fe.Title = "批量文件未通过核对"
	}
	return fe
}

// batchError answers err as a problem in JSON, or in XML (the fund
// centre's file paths already in errors[].field) when Accept asks for XML.
func (s *Server) batchError(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problem(w, r, err)
	if !acceptsXML(r) {
		writeProblem(w, r, p)
		return
	}
	b, err := fundbatch.EncodeProblem(p)
	if err != nil {
		writeProblem(w, r, p)
		return
	}
	w.Header().Set("Content-Type", problemxml.MediaType)
	w.WriteHeader(p.Status)
	_, _ = w.Write(b)
}

// acceptsXML reports whether the client asked for XML rather than JSON.
func acceptsXML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "xml") && !strings.Contains(a, "json")
}

func (s *Server) writeBatch(w http.ResponseWriter, r *http.Request, status int, b *mortgage.Batch, page *centrejson.BatchPage) {
	body, err := centrejson.EncodeBatch(b, page, s.Service.Config.Location)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", centrejson.MediaType)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// batch returns the caller's batch or answers 404: another partner's batch
// does not exist for the caller.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) (*mortgage.Batch, bool) {
	b, err := s.batchStore().Batch(r.Context(), partnerFrom(r.Context()).ID, mux.Vars(r)["id"])
	if errors.Is(err, mortgage.ErrNotFound) {
		s.batchError(w, r, &fault.Error{Kind: fault.NotFound, Code: CodeNotFound, Detail: "没有找到该批次。"})
		return nil, false
	}
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	return b, true
}

// getBatch shows a batch's progress and a page of its decided records:
// ?after=N (the last index seen, 1-based; 0 for the start) &limit=M.
func (s *Server) getBatch(w http.ResponseWriter, r *http.Request) {
	after, limit, err := pageParams(r)
	if err != nil {
		s.batchError(w, r, err)
		return
	}
	b, ok := s.batch(w, r)
	if !ok {
		return
	}
	recs, err := s.batchStore().Records(r.Context(), b.PartnerID, b.ID, after-1, limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page := &centrejson.BatchPage{Records: recs, Path: fundbatch.FieldPath}
	if n := len(recs); n == limit && recs[n-1].Index+1 < b.Records {
		page.Next = centrejson.BatchPageURL(b.ID, recs[n-1].Index+1, limit)
	}
	s.writeBatch(w, r, http.StatusOK, b, page)
}

func pageParams(r *http.Request) (after, limit int, err error) {
	q := r.URL.Query()
	limit = batchPageSize
	bad := func(field string, code mortgage.Code, msg string) (int, int, error) {
		return 0, 0, &fault.Error{Kind: fault.Malformed, Code: CodeBadRequest, Detail: msg + "。",
			Issues: []fault.Issue{{Field: field, Code: code, Message: msg}}}
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > math.MaxInt32 { // record indexes are int4
			return bad("after", "cursor_invalid", "after 须为非负整数：上一页最后一条记录的序号 index")
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > batchPageMax {
			return bad("limit", "limit_invalid", "limit 须为 1–"+strconv.Itoa(batchPageMax)+" 的整数")
		}
		limit = n
	}
	return after, limit, nil
}

// batchResults downloads a finished batch's results as one file in the
// fund centre's results format, streamed from the database a page at a
// time.
func (s *Server) batchResults(w http.ResponseWriter, r *http.Request) {
	b, ok := s.batch(w, r)
	if !ok {
		return
	}
	if b.Status != mortgage.BatchFinished {
		s.batchError(w, r, &fault.Error{Kind: fault.Conflict, Code: CodeBatchNotFinished, Title: "批次尚未办结",
			Detail: "批次尚有 " + strconv.Itoa(b.Pending()) + " 条记录未办结；办结后（status 为 finished）再下载结果文件。进度见 GET /v1/batches/" + b.ID + "。"})
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(batchUploadTime))
	w.Header().Set("Content-Type", fundbatch.MediaType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+fileName(b.Number)+`.results.xml"`)
	bw := bufio.NewWriterSize(w, 64<<10)
	err := s.writeResults(r, bw, b)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// The status line is gone: cut the connection so the client sees a
		// broken download, never a short file that looks whole.
		s.log.ErrorContext(r.Context(), "batch results download", slog.String("batch", b.ID), slog.Any("error", err))
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) writeResults(r *http.Request, w io.Writer, b *mortgage.Batch) error {
	rw, err := fundbatch.NewResultsWriter(w, fundbatch.ResultsHeader{BatchNumber: b.Number, Records: b.Records,
		Registered: b.Registered, Rejected: b.Rejected, Staff: b.Desk, GeneratedAt: s.Service.Now()}, s.Service.Config.Location)
	if err != nil {
		return err
	}
	for after := -1; ; {
		recs, err := s.batchStore().Records(r.Context(), b.PartnerID, b.ID, after, batchPageMax)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			res := fundbatch.Result{Index: rec.Index, Reference: rec.Reference, Status: resultStatus(rec.Status),
				BundleID: rec.BundleID, CertificateNumber: rec.CertificateNumber, Reasons: rec.Reasons}
			if rec.RegisteredAt != nil {
				res.RegisteredAt = *rec.RegisteredAt
			}
			if err := rw.Write(res); err != nil {
				return err
			}
			after = rec.Index
		}
		if len(recs) < batchPageMax {
			return rw.Close()
		}
	}
}

func resultStatus(s mortgage.Status) fundbatch.ResultStatus {
	switch s {
	case mortgage.StatusRegistered:
		return fundbatch.ResultRegistered
	case mortgage.StatusRejected:
		return fundbatch.ResultRejected
	default:
		return fundbatch.ResultStaff
	}
}

// fileName keeps a batch number's safe characters for a download's name.
func fileName(number string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, number)
}

// holdsMortgagee reports whether the partner is registered as the mortgagee
// with this credit code and, unless name is "", this name.
func holdsMortgagee(p partners.Partner, code, name string) bool {
	code, name = strings.TrimSpace(code), strings.TrimSpace(name)
	for _, m := range p.Mortgagees {
		if m.CreditCode == code {
			return name == "" || name == m.Name
		}
	}
	return false
}

// submitterOf is the authenticated partner as the domain sees it, with the
// mortgagee identities it may register under (PROMISES S8).
func submitterOf(p partners.Partner) mortgage.Submitter {
	ms := make([]mortgage.Mortgagee, len(p.Mortgagees))
	for i, m := range p.Mortgagees {
		ms[i] = mortgage.Mortgagee{Name: m.Name, CreditCode: m.CreditCode}
	}
	return mortgage.Submitter{PartnerID: p.ID, CreditCode: p.CreditCode, Format: p.Format, Mortgagees: ms}
}
