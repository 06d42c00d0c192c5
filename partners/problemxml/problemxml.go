// Package problemxml writes RFC 9457 problem details as XML
// (application/problem+xml, namespace urn:ietf:rfc:7807) for partners that
// speak XML: the same content as the server's problem+json, with each
// error's field given in the partner's own terms (its element path) and in
// the canonical JSON v1 terms beside it. Arrays are written as <i> items, as
// the RFC's XML appendix does. Documents are validated by
// docs/formats/problem.xsd.
package problemxml

import (
	"bytes"
	"strconv"

	"github.com/beevik/etree"

	"mortgaged/internal/fault"
)

// MediaType and Namespace are the RFC's.
const (
	MediaType = "application/problem+xml"
	Namespace = "urn:ietf:rfc:7807"
)

// PathFunc turns a canonical field path into the partner's element path.
type PathFunc func(canonical string) string

// PartnerField is the field as the partner names it and the canonical name
// beside it ("" when the field was a partner path already).
func PartnerField(field string, path PathFunc) (partner, canonical string) {
	if field == "" {
		return "", ""
	}
	if field[0] == '/' || path == nil {
		return field, ""
	}
	return path(field), field
}

// Encode writes p as application/problem+xml; path names each error's field
// in the partner's terms.
func Encode(p fault.Problem, path PathFunc) ([]byte, error) {
	doc := NewDocument()
	root := doc.CreateElement("problem")
	root.CreateAttr("xmlns", Namespace)
	Text(root, "type", p.Type)
	Text(root, "title", p.Title)
	Text(root, "status", strconv.Itoa(p.Status))
	Text(root, "detail", p.Detail)
	Text(root, "instance", p.Instance)
	Text(root, "code", string(p.Code))
	if len(p.Errors) > 0 {
		errs := root.CreateElement("errors")
		for _, is := range p.Errors {
			partner, canonical := PartnerField(is.Field, path)
			i := errs.CreateElement("i")
			Text(i, "field", partner)
			Text(i, "canonicalField", canonical)
			Text(i, "code", string(is.Code))
			Text(i, "message", is.Message)
		}
	}
	Text(root, "bundleId", p.BundleID)
	return Bytes(doc)
}

// NewDocument starts an outgoing document: UTF-8 declaration, and write
// settings that escape what a reader would otherwise normalise (carriage
// returns in text; tabs and line breaks in attributes), so values survive a
// round trip exactly.
func NewDocument() *etree.Document {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	return doc
}

// Text adds <name>v</name> to parent, or nothing when v is empty.
func Text(parent *etree.Element, name, v string) {
	if v != "" {
		parent.CreateElement(name).SetText(v)
	}
}

// Bytes indents and serialises an outgoing document.
func Bytes(doc *etree.Document) ([]byte, error) {
	doc.Indent(2)
	var b bytes.Buffer
	if _, err := doc.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
