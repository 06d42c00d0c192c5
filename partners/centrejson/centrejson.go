// Package centrejson is the centre's own JSON format, version 1: the format
// documented in docs/formats/centre-json-v1.md with its JSON Schema. Field
// names are readable English; amounts are exact decimal yuan strings; dates
// are YYYY-MM-DD; documents travel inline as base64 with a declared SHA-256.
package centrejson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
)

// MediaType is the media type partners send and receive.
const MediaType = "application/json"

// SyntaxError is a body that is not a JSON v1 document at all: malformed
// JSON, a wrong type, an unknown field. It maps to 400.
type SyntaxError struct {
	Field   string // JSON path, "" when the fault is not in one field
	Code    mortgage.Code
	Message string // Chinese, for people
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Code) }

// Fault is what the partner is told: 400, the body cannot be read, with the
// field at fault when there is one.
func (e *SyntaxError) Fault() *fault.Error {
	return &fault.Error{Kind: fault.Malformed, Code: e.Code, Detail: e.Message, Issues: fieldIssue(e.Field, e.Code, e.Message)}
}

func fieldIssue(field string, code mortgage.Code, message string) []fault.Issue {
	if field == "" {
		return nil
	}
	return []fault.Issue{{Field: field, Code: code, Message: message}}
}

// Syntax error codes.
const (
	CodeMalformed    mortgage.Code = "json_malformed"
	CodeWrongType    mortgage.Code = "json_wrong_type"
	CodeUnknownField mortgage.Code = "json_unknown_field"
	CodeEmpty        mortgage.Code = "body_empty"
	CodeTrailing     mortgage.Code = "json_trailing_data"
	CodeBase64       mortgage.Code = "material_base64"
)

type party struct {
	Name     string `json:"name"`
	IDType   string `json:"idType"`
	IDNumber string `json:"idNumber"`
}

type unit struct {
	UnitNumber             string `json:"unitNumber"`
	TitleCertificateNumber string `json:"titleCertificateNumber"`
}

type terms struct {
	CollateralKind     string          `json:"collateralKind"`
	PrincipalAmount    json.RawMessage `json:"principalAmount"`
	MaximumAmount      json.RawMessage `json:"maximumAmount"`
	DebtStart          string          `json:"debtStart"`
	DebtEnd            string          `json:"debtEnd"`
	Scope              string          `json:"scope"`
	TransferRestricted *bool           `json:"transferRestricted"`
}

type cancellation struct {
	CertificateNumber string `json:"certificateNumber"`
	Reason            string `json:"reason"`
}

type material struct {
	Kind      string `json:"kind"`
	FileName  string `json:"fileName"`
	MediaType string `json:"mediaType"`
	SHA256    string `json:"sha256"`
	Content   string `json:"content"`
}

// application is the wire form of mortgage.Application.
type application struct {
	Reference     string        `json:"reference"`
	Type          string        `json:"type"`
	Units         []unit        `json:"units"`
	Mortgagors    []party       `json:"mortgagors"`
	Mortgagee     party         `json:"mortgagee"`
	Debtors       []party       `json:"debtors"`
	Agent         *party        `json:"agent"`
	Mortgage      *terms        `json:"mortgage"`
	Cancellation  *cancellation `json:"cancellation"`
	FeeExemption  string        `json:"feeExemption"`
	Remarks       string        `json:"remarks"`
	Materials     []material    `json:"materials"`
	Promises      []promise     `json:"promises"`
	ReviewRequest string        `json:"reviewRequest"`
}

// promise is a document promised for later (容缺受理).
type promise struct {
	Kind  string `json:"kind"`
	DueOn string `json:"dueOn"`
}

// Decode reads a JSON v1 application. A *SyntaxError means the body is not a
// JSON v1 document; otherwise the returned issues are faults in individual
// values (an amount that is not a number, a date that is not a date), to be
// reported together with the validation issues.
func Decode(body []byte) (*mortgage.Application, mortgage.Issues, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // some core systems write a UTF-8 byte-order mark
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil, &SyntaxError{Code: CodeEmpty, Message: "请求体为空"}
	}
	if trimmed[0] != '{' {
		if json.Valid(trimmed) {
			return nil, nil, &SyntaxError{Code: CodeWrongType, Message: "请求体应为一个 JSON 对象（以 { 开始）"}
		}
		return nil, nil, &SyntaxError{Code: CodeMalformed, Message: "请求体不是 JSON：应为一个 JSON 对象（以 { 开始）"}
	}
	var w application
	if err := Strict(body, &w); err != nil {
		return nil, nil, err
	}
	var is mortgage.Issues
	a := &mortgage.Application{
		Reference:    w.Reference,
		Type:         mortgage.Type(w.Type),
		Mortgagee:    w.Mortgagee.canonical(),
		FeeExemption: w.FeeExemption,
		Remarks:      w.Remarks,
		Units:        []mortgage.UnitRef{},
		Materials:    []mortgage.Material{},
	}
	for _, u := range w.Units {
		a.Units = append(a.Units, mortgage.UnitRef{UnitNumber: strings.TrimSpace(u.UnitNumber), TitleCertificateNumber: strings.TrimSpace(u.TitleCertificateNumber)})
	}
	a.Mortgagors = parties(w.Mortgagors)
	a.Debtors = parties(w.Debtors)
	if w.Agent != nil {
		p := w.Agent.canonical()
		a.Agent = &p
	}
	if t := w.Mortgage; t != nil {
		a.Mortgage = &mortgage.Terms{
			CollateralKind:     t.CollateralKind,
			PrincipalFen:       amount(&is, "mortgage.principalAmount", t.PrincipalAmount),
			MaximumFen:         amount(&is, "mortgage.maximumAmount", t.MaximumAmount),
			DebtStart:          date(&is, "mortgage.debtStart", t.DebtStart),
			DebtEnd:            date(&is, "mortgage.debtEnd", t.DebtEnd),
			Scope:              t.Scope,
			TransferRestricted: t.TransferRestricted,
		}
	}
	if c := w.Cancellation; c != nil {
		a.Cancellation = &mortgage.CancellationTerms{CertificateNumber: strings.TrimSpace(c.CertificateNumber), Reason: c.Reason}
	}
	for i, p := range w.Promises {
		a.Promises = append(a.Promises, mortgage.Promise{Kind: p.Kind, DueOn: date(&is, fmt.Sprintf("promises[%d].dueOn", i), p.DueOn)})
	}
	a.ReviewRequest = w.ReviewRequest
	for i, m := range w.Materials {
		content, err := base64.StdEncoding.DecodeString(m.Content)
		if err != nil {
			is.Add(fmt.Sprintf("materials[%d].content", i), CodeBase64, "材料内容不是有效的 base64 编码（标准字母表，带 = 填充）")
			content = nil // half-decoded bytes would also fail the hash check: one fault is enough
		}
		a.Materials = append(a.Materials, mortgage.Material{Kind: m.Kind, FileName: m.FileName, MediaType: m.MediaType, SHA256: m.SHA256, Content: content})
	}
	return a, is, nil
}

func (p party) canonical() mortgage.Party {
	id := strings.TrimSpace(p.IDNumber)
	if p.IDType == mortgage.IDResident || p.IDType == mortgage.IDCreditCode {
		id = strings.ToUpper(id) // a lower-case x or letter is the same identifier
	}
	return mortgage.Party{Name: strings.TrimSpace(p.Name), IDType: p.IDType, IDNumber: id}
}

func parties(ps []party) []mortgage.Party {
	var out []mortgage.Party
	for _, p := range ps {
		out = append(out, p.canonical())
	}
	return out
}

// amount accepts a decimal string ("500000.00") or a plain JSON number, read
// exactly; absent or null is zero, left for validation to require.
func amount(is *mortgage.Issues, field string, raw json.RawMessage) int64 {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			is.Add(field, mortgage.CodeAmountFormat, "金额格式不正确")
			return 0
		}
	}
	fen, err := mortgage.ParseYuan(s)
	if err != nil {
		is.Add(field, mortgage.CodeAmountFormat, "金额“%s”格式不正确，应为以元为单位、最多两位小数的数字，如 \"1500000.00\"", mortgage.Clip(s))
		return 0
	}
	return fen
}

func date(is *mortgage.Issues, field, s string) mortgage.Date {
	if s == "" {
		return mortgage.Date{}
	}
	d, err := mortgage.ParseDate(s)
	if err != nil {
		is.Add(field, mortgage.CodeDateFormat, "日期“%s”格式不正确，应为 YYYY-MM-DD", mortgage.Clip(s))
	}
	return d
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "字符串"
	case "slice":
		return "数组"
	case "struct", "map":
		return "对象"
	case "bool":
		return "布尔值"
	case "ptr":
		return "对象"
	case "int", "int64", "float64":
		return "数字"
	}
	return k
}

// decision is the wire form of mortgage.Decision.
type decision struct {
	BundleID     string          `json:"bundleId"`
	Reference    string          `json:"reference"`
	Type         mortgage.Type   `json:"type"`
	Status       mortgage.Status `json:"status"`
	ReceivedAt   string          `json:"receivedAt"`
	DecidedAt    string          `json:"decidedAt,omitempty"` // absent while at the desk
	Registration *registration   `json:"registration,omitempty"`
	Cancellation *cancelled      `json:"cancellation,omitempty"`
	Fee          *fee            `json:"fee,omitempty"`
	Reasons      mortgage.Issues `json:"reasons"`
	DeskReasons  mortgage.Issues `json:"deskReasons,omitempty"`
	Deadline     string          `json:"deadline,omitempty"`
	Promises     []promiseState  `json:"promises,omitempty"`
}

type promiseState struct {
	Kind        string `json:"kind"`
	DueOn       string `json:"dueOn"`
	FulfilledAt string `json:"fulfilledAt,omitempty"`
}

type registration struct {
	CertificateNumber string              `json:"certificateNumber"`
	RegisteredAt      string              `json:"registeredAt"`
	RecordingOfficer  string              `json:"recordingOfficer"`
	Ranks             []mortgage.UnitRank `json:"ranks"`
}

type cancelled struct {
	CertificateNumber string `json:"certificateNumber"`
	CancelledAt       string `json:"cancelledAt"`
	RecordingOfficer  string `json:"recordingOfficer"`
}

type fee struct {
	Amount string `json:"amount"`
	Payer  string `json:"payer"`
	Basis  string `json:"basis"`
}

// EncodeDecision writes a decision as JSON v1, times in business time (loc).
func EncodeDecision(d *mortgage.Decision, loc *time.Location) ([]byte, error) {
	ts := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	w := decision{BundleID: d.BundleID, Reference: d.Reference, Type: d.Type, Status: d.Status,
		ReceivedAt: ts(d.ReceivedAt), Reasons: d.Reasons, DeskReasons: d.DeskReasons}
	if w.Reasons == nil {
		w.Reasons = mortgage.Issues{}
	}
	if d.Status != mortgage.StatusDesk {
		w.DecidedAt = ts(d.DecidedAt)
	}
	if d.Deadline != nil {
		w.Deadline = ts(*d.Deadline)
	}
	for _, p := range d.Promises {
		ps := promiseState{Kind: p.Kind, DueOn: p.DueOn.String()}
		if p.FulfilledAt != nil {
			ps.FulfilledAt = ts(*p.FulfilledAt)
		}
		w.Promises = append(w.Promises, ps)
	}
	if r := d.Registration; r != nil {
		w.Registration = &registration{r.CertificateNumber, ts(r.RegisteredAt), r.RecordingOfficer, r.Ranks}
	}
	if c := d.Cancelled; c != nil {
		w.Cancellation = &cancelled{c.CertificateNumber, ts(c.CancelledAt), c.RecordingOfficer}
	}
	if f := d.Fee; f != nil {
		w.Fee = &fee{mortgage.FormatYuan(f.AmountFen), f.Payer, f.Basis}
	}
	return json.Marshal(w)
}

// event is the wire form of a pushed or pulled event.
type event struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	OccurredAt  string          `json:"occurredAt"`
	Bundle      json.RawMessage `json:"bundle,omitempty"`
	Certificate *certificate    `json:"certificate,omitempty"`
	Batch       *batch          `json:"batch,omitempty"` // batch.finished
}

// certificate carries the issued document's exact bytes in base64, so the
// partner verifies the signature over what we signed, not a re-serialisation.
type certificate struct {
	Number           string `json:"number"`
	Status           string `json:"status"`
	VerificationCode string `json:"verificationCode"`
	KeyID            string `json:"keyId"`
	Document         string `json:"document"`  // base64 of the certificate JSON
	Signature        string `json:"signature"` // base64 Ed25519 signature over those bytes
}

// EncodeEvent writes an event as JSON v1: the bundle in the same shape as the
// API's decision, and the certificate when the event carries one.
func EncodeEvent(e mortgage.Event, loc *time.Location) ([]byte, error) {
	w := event{ID: e.ID, Type: string(e.Type), OccurredAt: e.OccurredAt.In(loc).Format(time.RFC3339)}
	if e.Decision != nil {
		b, err := EncodeDecision(e.Decision, loc)
		if err != nil {
			return nil, err
		}
		w.Bundle = b
	}
	if c := e.Certificate; c != nil {
		w.Certificate = &certificate{Number: c.Number, Status: c.Status, VerificationCode: c.VerificationCode, KeyID: c.KeyID,
			Document: base64.StdEncoding.EncodeToString(c.JSON), Signature: base64.StdEncoding.EncodeToString(c.JSONSignature)}
	}
	if e.Batch != nil {
		b := wireBatch(e.Batch, nil, loc)
		w.Batch = &b
	}
	return json.Marshal(w)
}

// DecodeMaterial reads one document, as sent to supply a promised one: the
// same object as an item of the application's materials.
func DecodeMaterial(body []byte) (mortgage.Material, mortgage.Issues, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return mortgage.Material{}, nil, &SyntaxError{Code: CodeEmpty, Message: "请求体为空"}
	}
	var m material
	if err := Strict(trimmed, &m); err != nil {
		return mortgage.Material{}, nil, err
	}
	var is mortgage.Issues
	content, err := base64.StdEncoding.DecodeString(m.Content)
	if err != nil {
		is.Add("content", CodeBase64, "材料内容不是有效的 base64 编码（标准字母表，带 = 填充）")
	}
	if _, ok := mortgage.MaterialKinds[m.Kind]; !ok {
		is.Add("kind", mortgage.CodeMaterialKind, "未知的材料类型“%s”", mortgage.Clip(m.Kind))
	}
	return mortgage.Material{Kind: m.Kind, FileName: m.FileName, MediaType: m.MediaType, SHA256: m.SHA256, Content: content}, is, nil
}
