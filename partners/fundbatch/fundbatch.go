// Package fundbatch is the housing provident fund centre's batch file: one
// XML file a day with a header (PCXX: batch number, date, record count,
// total amount, the fund centre as mortgagee) and many records (JL), each a
// general mortgage first registration. docs/formats/fund-batch-v1.md
// documents it, with XSDs for the file and for the results file the centre
// sends back.
//
// Decode streams: it never holds the document as one tree, only the record
// being read, so a file of 100,000 records decodes in bounded memory. Each
// record is decoded on its own through a declarative mapping (record.json,
// the xmlmap format), so a bad record yields its own issues and never stops
// the others; only a fault in the file itself (malformed XML, a header that
// disagrees with the body) fails the whole batch.
package fundbatch

import (
	_ "embed"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"mortgaged/mortgage"
	"mortgaged/partners/centrexml"
	"mortgaged/partners/xmlmap"
	"mortgaged/partners/xmlsafe"
)

// MediaType is what the fund centre uploads and downloads.
const MediaType = "application/xml"

// Element names of the file.
const (
	rootName   = "GJJDYPL" // 公积金抵押批量
	headerName = "PCXX"    // 批次信息
	recordName = "JL"      // 记录
)

// Batch fault codes: the file as a whole cannot be accepted (422).
const (
	CodeHeader         mortgage.Code = "batch_header_invalid"   // the header is missing, incomplete or unreadable
	CodeCountMismatch  mortgage.Code = "batch_count_mismatch"   // JLS is not the number of records
	CodeTotalMismatch  mortgage.Code = "batch_total_mismatch"   // ZJE is not the sum of the records' BDBZZQSE
	CodeTooManyRecords mortgage.Code = "batch_too_many_records" // more records than one batch may hold
)

//go:embed record.json
var recordMapping []byte

// recordDialect reads one record; a broken embedded mapping is a bug.
var recordDialect = func() *xmlmap.Dialect {
	d, err := xmlmap.Parse(recordMapping)
	if err != nil {
		panic("fundbatch: record.json: " + err.Error())
	}
	return d
}()

// Header is the batch's PCXX.
type Header struct {
	BatchNumber string         // PCH, the fund centre's batch number: a re-upload of the same number is the same batch
	Date        mortgage.Date  // PCRQ
	Records     int            // JLS, as declared
	TotalFen    int64          // ZJE, as declared: the sum of every record's BDBZZQSE
	Mortgagee   mortgage.Party // DYQRMC, DYQRZJZL, DYQRZJH: the fund centre
}

// Record is one JL, decoded on its own.
type Record struct {
	Index     int    // 0-based position in the file
	Path      string // the record's element path, e.g. /GJJDYPL/JL[1]
	Reference string // YWH as written ("" if absent), to name the record even when it is unreadable
	// Application is the canonical application, with the header's fund
	// centre as mortgagee; nil when the record's structure is unreadable.
	Application *mortgage.Application
	// Issues are the record's decode faults: canonical fields for faults in
	// values (merge them with mortgage.Validate as for any submission), or
	// an element path starting with "/" for a structural fault.
	Issues mortgage.Issues
}

// FieldPath names a canonical field of this record in the fund centre's
// terms: units[0].unitNumber → /GJJDYPL/JL[3]/BDCDYH[1].
func (r Record) FieldPath(canonical string) string { return FieldPath(r.Index, canonical) }

// FieldPath is Record.FieldPath for the record at index.
func FieldPath(index int, canonical string) string {
	return recordDialect.PathAt(recordPath(index), canonical)
}

func recordPath(index int) string { return fmt.Sprintf("/%s/%s[%d]", rootName, recordName, index+1) }

// Limits bound one batch file.
type Limits struct {
	MaxRecords        int   // records in one file; 0 means DefaultMaxRecords
	MaxRecordElements int   // elements in one record; 0 means 2,000
	MaxBytes          int64 // the whole file; 0 means no cap here (the upload is capped before)
}

// DefaultMaxRecords is the most records one batch may hold.
const DefaultMaxRecords = 200_000

// Decode reads a batch file under the default limits; see Limits.Decode.
func Decode(r io.Reader, fn func(Record) error) (Header, error) { return Limits{}.Decode(r, fn) }

// Verify reads the whole file and checks it without doing anything with
// the records: at upload time, before answering 202, so a file whose header
// disagrees with its body is refused at once rather than half processed.
func Verify(r io.Reader) (Header, error) { return Decode(r, nil) }

// Decode reads a batch file, calling fn with each record in order (fn may
// be nil). It returns the header; an *xmlsafe.Error when the file itself is
// unreadable or inconsistent (codes xml_* and batch_*), or fn's own error.
// The count and total are checked as the records stream by, so fn may have
// seen records of a file that is then refused: verify first, then process.
func (l Limits) Decode(r io.Reader, fn func(Record) error) (Header, error) {
	if l.MaxRecords <= 0 {
		l.MaxRecords = DefaultMaxRecords
	}
	if l.MaxRecordElements <= 0 {
		l.MaxRecordElements = 2000
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = -1
	}
	dec, err := xmlsafe.NewDecoder(r, xmlsafe.Limits{
		MaxBytes: l.MaxBytes, MaxElements: 1 << 40, LargeText: recordDialect.Limits().LargeText,
	})
	if err != nil {
		return Header{}, err
	}
	var (
		h         Header
		haveHead  bool
		inRoot    bool
		count     int
		total     int64
		badAmount int
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return h, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !inRoot {
				if t.Name.Local != rootName || t.Name.Space != "" {
					return h, &xmlsafe.Error{Code: xmlsafe.CodeWrongRoot, Field: "/" + t.Name.Local, Line: dec.Line(),
						Message: fmt.Sprintf("公积金批量文件的根元素应为 <%s>（无命名空间），收到的是 <%s>", rootName, t.Name.Local)}
				}
				for _, a := range t.Attr {
					if a.Name.Space != "xmlns" && !(a.Name.Space == "" && a.Name.Local == "xmlns") && a.Name.Space != xmlsafe.XSINamespace {
						return h, &xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: "/" + rootName + "/@" + a.Name.Local, Line: dec.Line(),
							Message: fmt.Sprintf("根元素 %s 没有属性 %s", rootName, a.Name.Local)}
					}
				}
				inRoot = true
				continue
			}
			switch {
			case t.Name.Local == headerName && !haveHead && count == 0:
				el, err := dec.ReadElement(t, 50)
				if err != nil {
					return h, err
				}
				if h, err = header(el); err != nil {
					return h, err
				}
				if h.Records > l.MaxRecords {
					return h, &xmlsafe.Error{Code: CodeTooManyRecords, Unacceptable: true, Field: "/" + rootName + "/" + headerName + "/JLS",
						Message: fmt.Sprintf("一个批次最多 %d 条记录，JLS 为 %d；请拆分为多个批次", l.MaxRecords, h.Records)}
				}
				haveHead = true
			case t.Name.Local == recordName && haveHead:
				if count >= h.Records {
					return h, countMismatch(h, count+1, true)
				}
				el, err := dec.ReadElement(t, l.MaxRecordElements)
				if err != nil {
					return h, err
				}
				rec := record(count, el, h.Mortgagee)
				if fen, ok := declaredAmount(el); ok {
					if total < 1<<62 { // each amount is below 10^15 fen, so this never overflows; past it no ZJE can agree anyway
						total += fen
					}
				} else {
					badAmount++
				}
				count++
				if fn != nil {
					if err := fn(rec); err != nil {
						return h, err
					}
				}
			case !haveHead:
				return h, &xmlsafe.Error{Code: CodeHeader, Unacceptable: true, Field: "/" + rootName + "/" + headerName, Line: dec.Line(),
					Message: fmt.Sprintf("批量文件须以批次信息 %s 开始，之后才是记录 %s；收到的是 <%s>", headerName, recordName, t.Name.Local)}
			default:
				p := fmt.Sprintf("/%s/%s", rootName, t.Name.Local)
				if t.Name.Local == headerName {
					return h, &xmlsafe.Error{Code: xmlsafe.CodeDuplicate, Field: p, Line: dec.Line(), Message: "批次信息 PCXX 只能出现一次，且在所有记录之前"}
				}
				return h, &xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: p, Line: dec.Line(),
					Message: fmt.Sprintf("未知元素 %s：批量文件中只有 %s 和 %s", p, headerName, recordName)}
			}
		case xml.CharData:
			if inRoot && strings.TrimSpace(string(t)) != "" {
				return h, &xmlsafe.Error{Code: xmlsafe.CodeWrongContent, Field: "/" + rootName, Line: dec.Line(),
					Message: "根元素 " + rootName + " 只能包含 PCXX 和 JL 元素，不能直接包含文字"}
			}
		}
	}
	if !haveHead {
		return h, &xmlsafe.Error{Code: CodeHeader, Unacceptable: true, Field: "/" + rootName + "/" + headerName, Message: "批量文件缺少批次信息 PCXX"}
	}
	if count != h.Records {
		return h, countMismatch(h, count, false)
	}
	if total != h.TotalFen || badAmount > 0 {
		return h, totalMismatch(h, total, badAmount)
	}
	return h, nil
}

func countMismatch(h Header, n int, atLeast bool) error {
	more := ""
	if atLeast {
		more = "至少"
	}
	return &xmlsafe.Error{Code: CodeCountMismatch, Unacceptable: true, Field: "/" + rootName + "/" + headerName + "/JLS",
		Message: fmt.Sprintf("批次 %s 的记录数 JLS 为 %d，文件中%s有 %d 条记录；整批未受理，请核对后重新上传", h.BatchNumber, h.Records, more, n)}
}

func totalMismatch(h Header, total int64, bad int) error {
	msg := fmt.Sprintf("批次 %s 的总金额 ZJE 为 %s 元，各记录被担保主债权数额 BDBZZQSE 之和为 %s 元", h.BatchNumber,
		mortgage.FormatYuan(h.TotalFen), mortgage.FormatYuan(total))
	if bad > 0 {
		msg += fmt.Sprintf("（另有 %d 条记录的 BDBZZQSE 缺失或无法读取）", bad)
	}
	return &xmlsafe.Error{Code: CodeTotalMismatch, Unacceptable: true, Field: "/" + rootName + "/" + headerName + "/ZJE", Message: msg + "；整批未受理，请核对后重新上传"}
}

// declaredAmount is a record's BDBZZQSE as written, read apart from the
// record's mapping so that the control total is checked even for records
// that are otherwise unreadable.
func declaredAmount(el *etree.Element) (int64, bool) {
	var found *etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == "BDBZZQSE" {
			if found != nil {
				return 0, false
			}
			found = c
		}
	}
	if found == nil {
		return 0, false
	}
	fen, err := mortgage.ParseYuan(strings.TrimSpace(found.Text()))
	return fen, err == nil
}

func record(index int, el *etree.Element, mortgagee mortgage.Party) Record {
	rec := Record{Index: index, Path: recordPath(index)}
	if y := el.SelectElement("YWH"); y != nil {
		rec.Reference = strings.TrimSpace(y.Text())
	}
	a, is, err := recordDialect.DecodeElement(el, rec.Path)
	if err != nil {
		var e *xmlsafe.Error
		if !errors.As(err, &e) {
			e = &xmlsafe.Error{Code: xmlsafe.CodeMalformed, Field: rec.Path, Message: err.Error()}
		}
		field := e.Field
		if field == "" {
			field = rec.Path
		}
		rec.Issues = mortgage.Issues{{Field: field, Code: e.Code, Message: e.Message}}
		return rec
	}
	a.Mortgagee = mortgagee
	rec.Application, rec.Issues = a, is
	return rec
}

// header reads PCXX: every element once, nothing else.
func header(el *etree.Element) (Header, error) {
	base := "/" + rootName + "/" + headerName
	fail := func(field, format string, args ...any) (Header, error) {
		return Header{}, &xmlsafe.Error{Code: CodeHeader, Unacceptable: true, Field: base + field, Message: fmt.Sprintf(format, args...)}
	}
	names := []string{"PCH", "PCRQ", "JLS", "ZJE", "DYQRMC", "DYQRZJZL", "DYQRZJH"}
	v := map[string]string{}
	if len(el.Attr) > 0 {
		return fail("/@"+el.Attr[0].Key, "批次信息 PCXX 没有属性 %s", el.Attr[0].Key)
	}
	if xmlsafe.HasText(el) {
		return fail("", "批次信息 PCXX 只能包含子元素")
	}
	for _, c := range el.ChildElements() {
		if !slices.Contains(names, c.Tag) {
			return Header{}, &xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: base + "/" + c.Tag,
				Message: fmt.Sprintf("未知元素 %s/%s：批次信息中只有 %s", base, c.Tag, strings.Join(names, "、"))}
		}
		if _, dup := v[c.Tag]; dup {
			return Header{}, &xmlsafe.Error{Code: xmlsafe.CodeDuplicate, Field: base + "/" + c.Tag, Message: fmt.Sprintf("元素 %s/%s 只能出现一次", base, c.Tag)}
		}
		s, err := xmlsafe.Text(c, base+"/"+c.Tag)
		if err != nil {
			return Header{}, err
		}
		v[c.Tag] = strings.TrimSpace(s)
	}
	for _, n := range names {
		if v[n] == "" {
			return fail("/"+n, "批次信息缺少 %s", n)
		}
	}
	var h Header
	h.BatchNumber = v["PCH"]
	if strings.IndexFunc(h.BatchNumber, func(r rune) bool { return r < '!' || r > '~' }) >= 0 || len(h.BatchNumber) > 64 {
		return fail("/PCH", "批次号 PCH 应为 1–64 个可见 ASCII 字符")
	}
	t, err := timeParse("20060102", v["PCRQ"])
	if err != nil || len(v["PCRQ"]) != 8 {
		return fail("/PCRQ", "批次日期 PCRQ“%s”应为 YYYYMMDD", mortgage.Clip(v["PCRQ"]))
	}
	h.Date = mortgage.Date{Time: t}
	n, err := strconv.Atoi(v["JLS"])
	if err != nil || n < 0 || strings.TrimLeft(v["JLS"], "0123456789") != "" {
		return fail("/JLS", "记录数 JLS“%s”应为非负整数", mortgage.Clip(v["JLS"]))
	}
	h.Records = n
	if h.TotalFen, err = mortgage.ParseYuan(v["ZJE"]); err != nil {
		return fail("/ZJE", "总金额 ZJE“%s”应为以元为单位、最多两位小数的数字", mortgage.Clip(v["ZJE"]))
	}
	h.Mortgagee = centrexml.CanonicalParty(v["DYQRMC"], v["DYQRZJZL"], v["DYQRZJH"])
	if h.Mortgagee.IDType != mortgage.IDCreditCode || mortgage.CheckCreditCode(h.Mortgagee.IDNumber) != "" {
		return fail("/DYQRZJH", "抵押权人（公积金中心）须以统一社会信用代码登记：DYQRZJZL 为 7，DYQRZJH 为有效的 18 位代码")
	}
	return h, nil
}

var timeParse = time.Parse
