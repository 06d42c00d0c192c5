package xmlmap

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"mortgaged/mortgage"
	"mortgaged/partners/centrexml"
	"mortgaged/partners/xmlsafe"
)

// Value fault codes particular to dialects; the others are mortgage's.
const (
	CodeValueUnknown mortgage.Code = "code_value_unknown" // a value the dialect's code table does not list
	CodeBase64       mortgage.Code = "material_base64"    // as in JSON v1
)

var timeParse = func(layout, s string) (time.Time, error) { return time.Parse(layout, s) }

// Limits are the caps a request in this dialect is read under: the
// element that carries base64 documents may be as long as a 10 MB document
// needs.
func (d *Dialect) Limits() xmlsafe.Limits {
	return xmlsafe.Limits{LargeText: d.largeText}
}

// Decode reads a request in the dialect. An *xmlsafe.Error means the body
// is not a request in this dialect (400; 413 for xml_too_large); otherwise
// the issues are faults in single values (422) with canonical field paths,
// each message naming the partner's own element path too.
func (d *Dialect) Decode(body []byte) (*mortgage.Application, mortgage.Issues, error) {
	doc, err := xmlsafe.Parse(body, d.Limits())
	if err != nil {
		return nil, nil, err
	}
	return d.DecodeElement(doc.Root(), "")
}

// DecodeElement reads one request element already parsed, for formats that
// embed the dialect (the provident fund batch reads each record so). base
// is the element's absolute path, e.g. /GJJDYPL/JL[3]; "" means /root.
func (d *Dialect) DecodeElement(el *etree.Element, base string) (*mortgage.Application, mortgage.Issues, error) {
	if base == "" {
		base = "/" + d.root
	}
	if el.Tag != d.root || el.NamespaceURI() != d.namespace {
		return nil, nil, &xmlsafe.Error{Code: xmlsafe.CodeWrongRoot, Field: base,
			Message: fmt.Sprintf("方言 %s 的根元素应为 <%s>%s，收到的是 <%s>%s", d.Name, d.root, nsNote(d.namespace), el.Tag, nsNote(el.NamespaceURI()))}
	}
	r := &reader{d: d, base: base, used: newUsage()}
	r.used.element(el)
	a := r.application(el)
	if r.err == nil && d.reject {
		r.err = r.unread(el, base)
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	return a, r.issues, nil
}

func nsNote(ns string) string {
	if ns == "" {
		return "（无命名空间）"
	}
	return "（命名空间 " + ns + "）"
}

// reader decodes one request element.
type reader struct {
	d      *Dialect
	base   string
	used   *usage
	err    error
	issues mortgage.Issues
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// value is what one field read: the raw text (parts joined by "+" for
// several paths), whether any part was present, and where it was.
type value struct {
	parts   []string
	present bool
	base    string // the partner path the field's paths are relative to
	paths   []path
	index   int // for a member of a parallel group: its 1-based position
}

// where names the value's place in the partner's document, for messages;
// built only when a message needs it.
func (v value) where() string {
	if len(v.paths) == 0 {
		return "（固定值）"
	}
	var ws []string
	for _, p := range v.paths {
		if v.index > 0 {
			ws = append(ws, p.elementPart().xpath(v.base, v.index)+attrSuffix(p))
		} else {
			ws = append(ws, p.xpath(v.base, 0))
		}
	}
	return strings.Join(ws, " + ")
}

// read reads a field relative to ctx, whose partner path is base.
func (r *reader) read(ctx *etree.Element, base string, f *field) value {
	if f.constant != "" {
		return value{parts: []string{f.constant}, present: true}
	}
	v := value{base: base, paths: f.from, parts: make([]string, 0, len(f.from))}
	for _, p := range f.from {
		s, ok := r.one(ctx, base, p)
		v.parts = append(v.parts, s)
		v.present = v.present || ok
	}
	return v
}

// one reads the single node a path names; a second match is a duplicate.
func (r *reader) one(ctx *etree.Element, base string, p path) (string, bool) {
	els := p.elementPart().elements(ctx, r.used)
	if len(els) > 1 {
		r.fail(&xmlsafe.Error{Code: xmlsafe.CodeDuplicate, Field: p.elementPart().xpath(base, 0),
			Message: fmt.Sprintf("元素 %s 只能出现一次（方言 %s），实际出现 %d 次", p.elementPart().xpath(base, 0), r.d.Name, len(els))})
		return "", false
	}
	if len(els) == 0 {
		return "", false
	}
	return r.node(els[0], base, p)
}

// node reads the text or attribute a path ends at, on its element el.
func (r *reader) node(el *etree.Element, base string, p path) (string, bool) {
	if p.attr != "" {
		a := el.SelectAttr(p.attr)
		if a == nil {
			return "", false
		}
		r.used.attr(el, p.attr)
		return strings.TrimSpace(a.Value), true
	}
	var text string
	for _, t := range el.Child {
		switch c := t.(type) {
		case *etree.CharData:
			if text == "" {
				text = c.Data
			} else {
				text += c.Data // rare: text split by a comment or CDATA
			}
		case *etree.Element:
			_, err := xmlsafe.Text(el, p.xpath(base, 0)) // builds the message
			r.fail(err)
			return "", false
		}
	}
	r.used.text(el)
	return strings.TrimSpace(text), true
}

// canonical translates a value through the field's code table; a value not
// in the table is an issue naming the partner's path and the choices.
func (r *reader) canonical(target string, f *field, v value) (string, bool) {
	if !v.present {
		return "", false
	}
	if f.codes == nil {
		return v.parts[0], true
	}
	got, ok := f.codes.lookup(v.parts)
	if !ok {
		shown := strings.Join(v.parts, "+")
		r.issues.Add(target, CodeValueUnknown, "%s 的值“%s”不在方言 %s 的代码表 %s 中；可选：%s",
			v.where(), mortgage.Clip(shown), r.d.Name, f.codes.name, f.codes.choices())
		return "", false
	}
	return got, true
}

// presence tracks which optional canonical objects the document mentions.
type presence struct{ mortgage, cancellation, agent bool }

func (r *reader) application(root *etree.Element) *mortgage.Application {
	a := &mortgage.Application{Units: []mortgage.UnitRef{}, Materials: []mortgage.Material{}}
	var pr presence
	terms := &mortgage.Terms{}
	canc := &mortgage.CancellationTerms{}
	agent := mortgage.Party{}
	for _, f := range r.d.scalars {
		v := r.read(root, r.base, f)
		s, ok := r.canonical(f.target, f, v)
		if v.present && f.constant == "" {
			switch {
			case strings.HasPrefix(f.target, "mortgage."):
				pr.mortgage = true
			case strings.HasPrefix(f.target, "cancellation."):
				pr.cancellation = true
			case strings.HasPrefix(f.target, "agent."):
				pr.agent = true
			}
		}
		if !ok {
			continue
		}
		switch f.target {
		case "reference":
			a.Reference = s
		case "type":
			a.Type = mortgage.Type(s)
		case "feeExemption":
			a.FeeExemption = s
		case "remarks":
			a.Remarks = s
		case "mortgagee.name":
			a.Mortgagee.Name = s
		case "mortgagee.idType":
			a.Mortgagee.IDType = s
		case "mortgagee.idNumber":
			a.Mortgagee.IDNumber = s
		case "agent.name":
			agent.Name = s
		case "agent.idType":
			agent.IDType = s
		case "agent.idNumber":
			agent.IDNumber = s
		case "mortgage.collateralKind":
			terms.CollateralKind = s
		case "mortgage.principalAmount":
			terms.PrincipalFen = r.amount(f, v, s)
		case "mortgage.maximumAmount":
			terms.MaximumFen = r.amount(f, v, s)
		case "mortgage.debtStart":
			terms.DebtStart = r.date(f.target, f, v, s)
		case "mortgage.debtEnd":
			terms.DebtEnd = r.date(f.target, f, v, s)
		case "reviewRequest":
			a.ReviewRequest = s
		case "mortgage.scope":
			terms.Scope = s
		case "mortgage.transferRestricted":
			terms.TransferRestricted = r.boolean(f, v, s)
		case "cancellation.certificateNumber":
			canc.CertificateNumber = s
		case "cancellation.reason":
			canc.Reason = s
		}
	}
	a.Mortgagee = centrexml.CanonicalParty(a.Mortgagee.Name, a.Mortgagee.IDType, a.Mortgagee.IDNumber)
	if pr.agent {
		p := centrexml.CanonicalParty(agent.Name, agent.IDType, agent.IDNumber)
		a.Agent = &p
	}
	if pr.mortgage {
		a.Mortgage = terms
	}
	if pr.cancellation {
		a.Cancellation = canc
	}
	for _, g := range r.d.groups {
		for i, item := range r.items(root, g) {
			r.groupItem(a, g, i, item)
		}
	}
	return a
}

// item is one member of a repeated group: its values by member name.
type item map[string]value

// items reads a group: one item per repeated element, or, for a group
// without each, the i-th match of every member's path.
func (r *reader) items(root *etree.Element, g *group) []item {
	var out []item
	if g.each != nil {
		for i, el := range g.each.elements(root, r.used) {
			base := g.each.xpath(r.base, i+1)
			it := item{}
			for _, f := range g.fields {
				it[f.target] = r.read(el, base, f)
			}
			out = append(out, it)
		}
		return out
	}
	for _, f := range g.fields {
		p := f.from[0]
		els := p.elementPart().elements(root, r.used)
		for i, el := range els {
			for len(out) <= i {
				out = append(out, item{})
			}
			s, ok := r.node(el, r.base, p)
			out[i][f.target] = value{parts: []string{s}, present: ok, base: r.base, paths: f.from, index: i + 1}
		}
	}
	return out
}

func attrSuffix(p path) string {
	if p.attr == "" {
		return ""
	}
	return "/@" + p.attr
}

func (r *reader) groupItem(a *mortgage.Application, g *group, i int, it item) {
	get := func(member string) string {
		f := g.field(member)
		if f == nil {
			return ""
		}
		s, _ := r.canonical(fmt.Sprintf("%s[%d].%s", g.target, i, member), f, it[member])
		return s
	}
	switch g.target {
	case "units":
		a.Units = append(a.Units, mortgage.UnitRef{UnitNumber: get("unitNumber"), TitleCertificateNumber: get("titleCertificateNumber")})
	case "mortgagors", "debtors":
		p := centrexml.CanonicalParty(get("name"), get("idType"), get("idNumber"))
		if g.target == "mortgagors" {
			a.Mortgagors = append(a.Mortgagors, p)
		} else {
			a.Debtors = append(a.Debtors, p)
		}
	case "materials":
		m := mortgage.Material{Kind: get("kind"), FileName: get("fileName"), MediaType: get("mediaType"), SHA256: get("sha256")}
		if f := g.field("content"); f != nil {
			m.Content = r.base64(fmt.Sprintf("materials[%d].content", i), it["content"])
		}
		a.Materials = append(a.Materials, m)
	case "promises":
		p := mortgage.Promise{Kind: get("kind")}
		if f := g.field("dueOn"); f != nil {
			if s := get("dueOn"); s != "" {
				p.DueOn = r.date(fmt.Sprintf("promises[%d].dueOn", i), f, it["dueOn"], s)
			}
		}
		a.Promises = append(a.Promises, p)
	}
}

func (g *group) field(member string) *field {
	for _, f := range g.fields {
		if f.target == member {
			return f
		}
	}
	return nil
}

func (r *reader) amount(f *field, v value, s string) int64 {
	fen, err := parseAmount(s, f.amount)
	if err != nil {
		ex := map[string]string{"yuan": "560000.00", "wan": "56.000000", "fen": "56000000"}[f.amount.name]
		r.issues.Add(f.target, mortgage.CodeAmountFormat, "%s 的金额“%s”格式不正确：应为以%s为单位、最多 %d 位小数的数字，如 %s",
			v.where(), mortgage.Clip(s), f.amount.label, f.amount.decimals, ex)
		return 0
	}
	return fen
}

func (r *reader) date(target string, f *field, v value, s string) mortgage.Date {
	d, ok := parseDate(s, f.dates)
	if !ok {
		r.issues.Add(target, mortgage.CodeDateFormat, "%s 的日期“%s”格式不正确，应为 %s", v.where(), mortgage.Clip(s), strings.Join(f.spec.Date, " 或 "))
	}
	return d
}

// boolean reads true/false through the field's code table, or as
// xs:boolean (true, false, 1, 0) without one.
func (r *reader) boolean(f *field, v value, s string) *bool {
	b, err := strconv.ParseBool(s)
	if err != nil || (f.codes == nil && s != "true" && s != "false" && s != "1" && s != "0") {
		r.issues.Add(f.target, centrexml.CodeBoolean, "%s 的值“%s”不是布尔值，应为 true 或 false", v.where(), mortgage.Clip(s))
		return nil
	}
	return &b
}

// base64 reads a document's content: standard alphabet with padding, XML
// whitespace (line breaks) ignored.
func (r *reader) base64(target string, v value) []byte {
	if !v.present {
		return nil
	}
	s := strings.Map(func(c rune) rune {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			return -1
		}
		return c
	}, v.parts[0])
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		r.issues.Add(target, CodeBase64, "%s 不是有效的 base64 编码（标准字母表，带 = 填充；可以换行）", v.where())
		return nil
	}
	return b
}

// unread finds the first element, attribute or text in document order that
// no field read, and reports it in the partner's terms.
func (r *reader) unread(el *etree.Element, p string) error {
	for _, a := range el.Attr {
		if !xmlsafe.Ignorable(a) && !r.used.attrs[attrKey{el, a.Key}] {
			return &xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: p + "/@" + a.FullKey(),
				Message: fmt.Sprintf("未知属性 %s/@%s：方言 %s 中没有该属性（请检查拼写和大小写）", p, a.FullKey(), r.d.Name)}
		}
	}
	if !r.used.texts[el] && xmlsafe.HasText(el) {
		return &xmlsafe.Error{Code: xmlsafe.CodeWrongContent, Field: p,
			Message: fmt.Sprintf("元素 %s 不应直接包含文字（方言 %s）", p, r.d.Name)}
	}
	counts := map[string]int{}
	for _, c := range el.ChildElements() {
		counts[c.Tag]++
	}
	seen := map[string]int{}
	for _, c := range el.ChildElements() {
		seen[c.Tag]++
		cp := p + "/" + c.Tag
		if counts[c.Tag] > 1 {
			cp += "[" + strconv.Itoa(seen[c.Tag]) + "]"
		}
		if !r.used.elements[c] || c.NamespaceURI() != r.d.namespace {
			return &xmlsafe.Error{Code: xmlsafe.CodeUnknownElement, Field: cp,
				Message: fmt.Sprintf("未知元素 %s：方言 %s 中没有该元素，或它不应出现在这里（请检查拼写、大小写和属性值）", cp, r.d.Name)}
		}
		if err := r.unread(c, cp); err != nil {
			return err
		}
	}
	return nil
}
