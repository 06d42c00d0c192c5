// Package centrexml is the centre's own XML format, version 1: the same
// content as JSON v1 (partners/centrejson) with element names equal to the
// JSON names, in the namespace urn:qqhr:bdc:mortgage:v1. It is documented in
// docs/formats/centre-xml-v1.md with XSDs beside it.
//
// Decode reads a request; an *xmlsafe.Error means the body is not an XML v1
// application (400, or 413 for xml_too_large), otherwise the issues are
// faults in single values (422), with canonical field paths so that the
// server merges them with validation issues. Every answer names fields in
// the partner's XML terms (/application/mortgagors/mortgagor[1]/idNumber)
// with the canonical path beside it.
package centrexml

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"mortgaged/mortgage"
	"mortgaged/partners/xmlsafe"
)

// MediaType is what XML partners send and receive; Namespace is the
// format's XML namespace.
const (
	MediaType = "application/xml"
	Namespace = "urn:qqhr:bdc:mortgage:v1"
)

// Value fault codes particular to XML v1; the others are mortgage's.
const (
	CodeBase64  mortgage.Code = "material_base64" // as in JSON v1
	CodeBoolean mortgage.Code = "boolean_format"  // not true, false, 1 or 0
)

// Limits are the caps a request is read under: base64 documents travel in
// <content>, which may be as long as a 10 MB document needs.
var Limits = xmlsafe.Limits{LargeText: []string{"content"}}

// node is an element with its path in the partner's terms.
type node struct {
	el   *etree.Element
	path string
}

// Decode reads an XML v1 application.
func Decode(body []byte) (*mortgage.Application, mortgage.Issues, error) {
	root, err := parseRoot(body, "application")
	if err != nil {
		return nil, nil, err
	}
	d := &decoder{}
	a := d.application(root)
	if d.err != nil {
		return nil, nil, d.err
	}
	return a, d.issues, nil
}

// parseRoot parses body within Limits and checks that its root element is
// <tag> in Namespace.
func parseRoot(body []byte, tag string) (node, error) {
	doc, err := xmlsafe.Parse(body, Limits)
	if err != nil {
		return node{}, err
	}
	root := doc.Root()
	if root.Tag != tag || root.NamespaceURI() != Namespace {
		return node{}, &xmlsafe.Error{Code: xmlsafe.CodeWrongRoot, Field: "/" + root.Tag,
			Message: fmt.Sprintf("根元素应为命名空间 %s 中的 <%s>，收到的是 %s 中的 <%s>", Namespace, tag, orNone(root.NamespaceURI()), root.Tag)}
	}
	return node{root, "/" + tag}, nil
}

func orNone(ns string) string {
	if ns == "" {
		return "无命名空间"
	}
	return "命名空间 " + ns
}

// decoder keeps the first structural fault and every value fault.
type decoder struct {
	err    error
	issues mortgage.Issues
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// children returns the child elements of a container by name. Only the
// names listed may appear, each at most once; attributes other than
// namespace declarations and xsi:* hints, and text, are faults.
func (d *decoder) children(n node, names ...string) map[string]node {
	out := map[string]node{}
	if !d.plain(n) {
		return out
	}
	for _, c := range n.el.ChildElements() {
		p := n.path + "/" + c.Tag
		switch {
		case c.NamespaceURI() != Namespace || !slices.Contains(names, c.Tag):
			d.fail(unknown(n, c, names))
			return out
		case out[c.Tag].el != nil:
			d.fail(&xmlsafe.Error{Code: xmlsafe.CodeDuplicate, Field: p, Message: fmt.Sprintf("元素 %s 只能出现一次", p)})
			return out
		}
		out[c.Tag] = node{c, p}
	}
	return out
}

// items returns the repeated children of a list element, all named item.
func (d *decoder) items(n node, item string) []node {
	var out []node
	if n.el == nil || !d.plain(n) {
		return nil
	}
	for _, c := range n.el.ChildElements() {
		if c.NamespaceURI() != Namespace || c.Tag != item {
			d.fail(unknown(n, c, []string{item}))
			return nil
		}
		out = append(out, node{c, fmt.Sprintf("%s/%s[%d]", n.path, item, len(out)+1)})
	}
	return out
}

// plain checks a container element has neither attributes nor text.
func (d *decoder) plain(n node) bool {
	for _, a := range n.el.Attr {
		if !xmlsafe.Ignorable(a) {
			d.fail(&xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: n.path + "/@" + a.FullKey(),
				Message: fmt.Sprintf("元素 %s 没有属性 %s：XML v1 的内容都写在元素中", n.path, a.FullKey())})
			return false
		}
	}
	if xmlsafe.HasText(n.el) {
		d.fail(&xmlsafe.Error{Code: xmlsafe.CodeWrongContent, Field: n.path,
			Message: fmt.Sprintf("元素 %s 只能包含子元素，不能直接包含文字", n.path)})
		return false
	}
	return true
}

func unknown(parent node, c *etree.Element, names []string) error {
	p := parent.path + "/" + c.Tag
	if ns := c.NamespaceURI(); ns != Namespace {
		return &xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: p,
			Message: fmt.Sprintf("元素 %s 不在命名空间 %s 中（所在：%s）", p, Namespace, orNone(ns))}
	}
	return &xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: p,
		Message: fmt.Sprintf("未知元素 %s（XML v1 中 %s 之下只有：%s；请检查拼写和大小写）", p, parent.path, strings.Join(names, "、"))}
}

// text is the trimmed text of a value element; "" when absent.
func (d *decoder) text(m map[string]node, name string) string {
	n, ok := m[name]
	if !ok {
		return ""
	}
	for _, a := range n.el.Attr {
		if !xmlsafe.Ignorable(a) {
			d.fail(&xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: n.path + "/@" + a.FullKey(),
				Message: fmt.Sprintf("元素 %s 没有属性 %s", n.path, a.FullKey())})
			return ""
		}
	}
	s, err := xmlsafe.Text(n.el, n.path)
	if err != nil {
		d.fail(err)
		return ""
	}
	return strings.TrimSpace(s)
}

var (
	applicationFields = []string{"reference", "type", "units", "mortgagors", "mortgagee", "debtors", "agent",
		"mortgage", "cancellation", "feeExemption", "remarks", "materials", "promises", "reviewRequest"}
	partyFields        = []string{"name", "idType", "idNumber"}
	unitFields         = []string{"unitNumber", "titleCertificateNumber"}
	termsFields        = []string{"collateralKind", "principalAmount", "maximumAmount", "debtStart", "debtEnd", "scope", "transferRestricted"}
	cancellationFields = []string{"certificateNumber", "reason"}
	materialFields     = []string{"kind", "fileName", "mediaType", "sha256", "content"}
	promiseFields      = []string{"kind", "dueOn"}
)

func (d *decoder) application(n node) *mortgage.Application {
	m := d.children(n, applicationFields...)
	a := &mortgage.Application{
		Reference:    d.text(m, "reference"),
		Type:         mortgage.Type(d.text(m, "type")),
		FeeExemption: d.text(m, "feeExemption"),
		Remarks:      d.text(m, "remarks"),
		Units:        []mortgage.UnitRef{},
		Materials:    []mortgage.Material{},
	}
	for _, u := range d.items(m["units"], "unit") {
		f := d.children(u, unitFields...)
		a.Units = append(a.Units, mortgage.UnitRef{UnitNumber: d.text(f, "unitNumber"), TitleCertificateNumber: d.text(f, "titleCertificateNumber")})
	}
	for _, p := range d.items(m["mortgagors"], "mortgagor") {
		a.Mortgagors = append(a.Mortgagors, d.party(p))
	}
	if p, ok := m["mortgagee"]; ok {
		a.Mortgagee = d.party(p)
	}
	for _, p := range d.items(m["debtors"], "debtor") {
		a.Debtors = append(a.Debtors, d.party(p))
	}
	if p, ok := m["agent"]; ok {
		agent := d.party(p)
		a.Agent = &agent
	}
	if t, ok := m["mortgage"]; ok {
		f := d.children(t, termsFields...)
		a.Mortgage = &mortgage.Terms{
			CollateralKind:     d.text(f, "collateralKind"),
			PrincipalFen:       d.amount("mortgage.principalAmount", d.text(f, "principalAmount")),
			MaximumFen:         d.amount("mortgage.maximumAmount", d.text(f, "maximumAmount")),
			DebtStart:          d.date("mortgage.debtStart", d.text(f, "debtStart")),
			DebtEnd:            d.date("mortgage.debtEnd", d.text(f, "debtEnd")),
			Scope:              d.text(f, "scope"),
			TransferRestricted: d.boolean("mortgage.transferRestricted", d.text(f, "transferRestricted")),
		}
	}
	if c, ok := m["cancellation"]; ok {
		f := d.children(c, cancellationFields...)
		a.Cancellation = &mortgage.CancellationTerms{CertificateNumber: d.text(f, "certificateNumber"), Reason: d.text(f, "reason")}
	}
	for i, mn := range d.items(m["materials"], "material") {
		a.Materials = append(a.Materials, d.material(mn, fmt.Sprintf("materials[%d].", i)))
	}
	for i, pn := range d.items(m["promises"], "promise") {
		f := d.children(pn, promiseFields...)
		a.Promises = append(a.Promises, mortgage.Promise{Kind: d.text(f, "kind"), DueOn: d.date(fmt.Sprintf("promises[%d].dueOn", i), d.text(f, "dueOn"))})
	}
	a.ReviewRequest = d.text(m, "reviewRequest")
	return a
}

// material reads one document; prefix is its canonical path ("materials[0].").
func (d *decoder) material(n node, prefix string) mortgage.Material {
	f := d.children(n, materialFields...)
	return mortgage.Material{
		Kind: d.text(f, "kind"), FileName: d.text(f, "fileName"), MediaType: d.text(f, "mediaType"), SHA256: d.text(f, "sha256"),
		Content: d.base64(prefix+"content", d.text(f, "content")),
	}
}

// DecodeMaterial reads one document sent on its own, as for a promised
// document supplied later (POST /v1/bundles/{id}/materials): a <material>
// element with the children of /application/materials/material. Value
// issues name the fields kind, fileName, mediaType, sha256, content.
func DecodeMaterial(body []byte) (*mortgage.Material, mortgage.Issues, error) {
	root, err := parseRoot(body, "material")
	if err != nil {
		return nil, nil, err
	}
	d := &decoder{}
	m := d.material(root, "")
	if d.err != nil {
		return nil, nil, d.err
	}
	return &m, d.issues, nil
}

func (d *decoder) party(n node) mortgage.Party {
	f := d.children(n, partyFields...)
	return CanonicalParty(d.text(f, "name"), d.text(f, "idType"), d.text(f, "idNumber"))
}

// CanonicalParty normalises a party as JSON v1 does: a lower-case x or
// letter in a resident ID or credit code is the same identifier.
func CanonicalParty(name, idType, idNumber string) mortgage.Party {
	name, idNumber = strings.TrimSpace(name), strings.TrimSpace(idNumber)
	if idType == mortgage.IDResident || idType == mortgage.IDCreditCode {
		idNumber = strings.ToUpper(idNumber)
	}
	return mortgage.Party{Name: name, IDType: idType, IDNumber: idNumber}
}

// amount reads exact decimal yuan; empty is absent (zero), left to validation.
func (d *decoder) amount(field, s string) int64 {
	if s == "" {
		return 0
	}
	fen, err := mortgage.ParseYuan(s)
	if err != nil {
		d.issues.Add(field, mortgage.CodeAmountFormat, "金额“%s”格式不正确，应为以元为单位、最多两位小数的数字，如 1500000.00", mortgage.Clip(s))
		return 0
	}
	return fen
}

func (d *decoder) date(field, s string) mortgage.Date {
	if s == "" {
		return mortgage.Date{}
	}
	v, err := mortgage.ParseDate(s)
	if err != nil {
		d.issues.Add(field, mortgage.CodeDateFormat, "日期“%s”格式不正确，应为 YYYY-MM-DD", mortgage.Clip(s))
	}
	return v
}

// boolean reads xs:boolean: true, false, 1 or 0; empty is absent.
func (d *decoder) boolean(field, s string) *bool {
	var v bool
	switch s {
	case "":
		return nil
	case "true", "1":
		v = true
	case "false", "0":
		v = false
	default:
		d.issues.Add(field, CodeBoolean, "“%s”不是布尔值，应为 true 或 false", mortgage.Clip(s))
		return nil
	}
	return &v
}

// base64 reads xs:base64Binary: standard alphabet with padding; line
// breaks and other XML whitespace are allowed and ignored.
func (d *decoder) base64(field, s string) []byte {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		d.issues.Add(field, CodeBase64, "材料内容不是有效的 base64 编码（标准字母表，带 = 填充；可以换行）")
		return nil
	}
	return b
}
