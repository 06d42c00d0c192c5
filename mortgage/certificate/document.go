// Package certificate is the electronic registration certificate
// (不动产登记证明) as a document: its content, its two renderings (the
// canonical JSON and the XML, docs/formats/certificate-v1.md) and their
// signing. The bytes it renders are what is signed and published, so they
// must not change: the golden files and the worked example in mortgage's
// tests hold them. The mortgage domain fills a Document when it registers;
// this package knows nothing of registration.
package certificate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Format names the version of the certificate document; it is the
// first field of the JSON and an attribute of the XML root.
const Format = "mortgaged-certificate/v1"

// Signer signs issued certificates with the installation's active key
// (internal/certkeys.Keyring in production). Sign returns the detached
// signature and the id of the key that made it.
type Signer interface {
	Sign(msg []byte) (keyID string, signature []byte)
}

// Document is the content of an electronic registration certificate
// (不动产登记证明) for a mortgage right, as the register states it at
// registration. Its JSON encoding (CanonicalJSON) is the signed document;
// field order is the struct's, so the bytes are deterministic.
type Document struct {
	Format           string   `json:"format"`           // Format
	Title            string   `json:"title"`            // 不动产登记证明
	Number           string   `json:"number"`           // BDCDJZMH
	Matter           string   `json:"matter"`           // 证明权利或事项: 抵押权
	RegistrationType string   `json:"registrationType"` // what was registered (the registration type code)
	RightHolder      Party    `json:"rightHolder"`      // 权利人: the mortgagee
	Obligors         []Party  `json:"obligors"`         // 义务人: the mortgagors
	Units            []Unit   `json:"units"`            // 不动产单元号, 坐落, 顺位
	Mortgage         Mortgage `json:"mortgage"`         // 其他: the mortgage particulars
	Remarks          string   `json:"remarks"`          // 附记
	RegisteredAt     string   `json:"registeredAt"`     // 登簿时间, RFC 3339 in business time
	RecordingOfficer string   `json:"recordingOfficer"` // 登簿人
	Authority        string   `json:"authority"`        // 登记机构
	VerificationCode string   `json:"verificationCode"` // 核验码, for the online check
}

// Party is a party named on a certificate.
type Party struct {
	Name     string `json:"name"`
	IDType   string `json:"idType"` // ZJZL code
	IDNumber string `json:"idNumber"`
}

// Unit is one mortgaged unit with its location and rank.
type Unit struct {
	UnitNumber             string `json:"unitNumber"`             // BDCDYH
	Location               string `json:"location"`               // 坐落 (ZL)
	TitleCertificateNumber string `json:"titleCertificateNumber"` // the owner's 不动产权证书号
	Rank                   int    `json:"rank"`                   // 顺位 (DYSW)
}

// Mortgage is the particulars of the mortgage right.
type Mortgage struct {
	Kind                string  `json:"kind"`                      // general | maximum (DYFS 1 / 2)
	KindLabel           string  `json:"kindLabel"`                 // 一般抵押 | 最高额抵押
	CollateralKind      string  `json:"collateralKind"`            // DYBDCLX code
	CollateralKindLabel string  `json:"collateralKindLabel"`       // e.g. 土地和房屋
	PrincipalAmount     string  `json:"principalAmount,omitempty"` // BDBZZQSE, yuan with two decimals
	MaximumAmount       string  `json:"maximumAmount,omitempty"`   // ZGZQSE, yuan with two decimals
	DebtStart           string  `json:"debtStart"`                 // ZWLXQSSJ, YYYY-MM-DD
	DebtEnd             string  `json:"debtEnd"`                   // ZWLXJSSJ, YYYY-MM-DD
	Scope               string  `json:"scope"`                     // DBFW 担保范围
	TransferRestricted  bool    `json:"transferRestricted"`        // 是否存在禁止或限制转让抵押不动产的约定
	Debtors             []Party `json:"debtors"`                   // ZWR 债务人
}

// CanonicalJSON is the certificate's signed JSON document: compact, fields
// in struct order, no HTML escaping, no trailing newline.
func (c *Document) CanonicalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Parse reads a certificate JSON document, for display. It checks
// nothing: verify the signature over the bytes first.
func Parse(doc []byte) (*Document, error) {
	var c Document
	if err := json.Unmarshal(doc, &c); err != nil {
		return nil, fmt.Errorf("certificate document: %w", err)
	}
	if c.Format != Format {
		return nil, fmt.Errorf("certificate document: format %q, want %q", c.Format, Format)
	}
	return &c, nil
}

// Signed is a document's two renderings, signed with one key.
type Signed struct {
	KeyID         string
	JSON          []byte // CanonicalJSON
	JSONSignature []byte
	XML           []byte
	XMLSignature  []byte
}

// Sign renders c as JSON and XML and signs both with one key.
func Sign(c *Document, signer Signer) (*Signed, error) {
	doc, err := c.CanonicalJSON()
	if err != nil {
		return nil, fmt.Errorf("certificate JSON: %w", err)
	}
	xdoc, err := c.XML()
	if err != nil {
		return nil, fmt.Errorf("certificate XML: %w", err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		// A key rotation picked up between the two signatures would leave
		// the renderings under different keys; sign both again.
		id, sig := signer.Sign(doc)
		xid, xsig := signer.Sign(xdoc)
		if id == xid {
			return &Signed{KeyID: id, JSON: doc, JSONSignature: sig, XML: xdoc, XMLSignature: xsig}, nil
		}
	}
	return nil, errors.New("signing key changed during every attempt to sign a certificate")
}
