package xmlmap

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/problemxml"
)

// template is a compiled answer template.
type template struct {
	root      string
	namespace string
	outs      []*out
}

// out is a compiled OutSpec.
type out struct {
	to     path
	from   string
	group  string // source group name ("reasons") for a group; "" otherwise
	embed  bool   // events: the decision document goes here
	konst  string
	codes  map[string]string
	table  *codeTable
	time   string // Go layout; "" is RFC 3339
	amount amountUnit
	outs   []*out
}

// The values each template may draw on: a name is a value; a name ending
// in [] is a group with the member values listed.
var (
	decisionSources = map[string][]string{
		"bundleId": nil, "reference": nil, "type": nil, "status": nil, "receivedAt": nil, "decidedAt": nil,
		"registration.certificateNumber": nil, "registration.registeredAt": nil, "registration.recordingOfficer": nil,
		"registration.ranks[]":           {"unitNumber", "rank"},
		"cancellation.certificateNumber": nil, "cancellation.cancelledAt": nil, "cancellation.recordingOfficer": nil,
		"fee.amount": nil, "fee.payer": nil, "fee.basis": nil,
		"reasons[]":     {"field", "canonicalField", "code", "message"},
		"deadline":      nil,
		"deskReasons[]": {"field", "canonicalField", "code", "message"},
		"promises[]":    {"kind", "dueOn", "fulfilledAt"},
	}
	problemSources = map[string][]string{
		"type": nil, "title": nil, "status": nil, "detail": nil, "instance": nil, "code": nil, "bundleId": nil,
		"errors[]": {"field", "canonicalField", "code", "message"},
	}
	eventSources = map[string][]string{
		"id": nil, "type": nil, "occurredAt": nil, "decision": nil,
		"certificate.number": nil, "certificate.status": nil, "certificate.verificationCode": nil, "certificate.keyId": nil,
		"certificate.documentMediaType": nil, "certificate.document": nil, "certificate.signature": nil,
	}
	timeSources = map[string]bool{"receivedAt": true, "decidedAt": true, "registration.registeredAt": true,
		"cancellation.cancelledAt": true, "occurredAt": true, "deadline": true, "fulfilledAt": true, "dueOn": true}
)

func (d *Dialect) compileTemplate(kind string, spec *TemplateSpec, sources map[string][]string) (*template, error) {
	if spec == nil {
		return nil, nil // Load insists on all three for bank dialects
	}
	if !nameRE.MatchString(spec.Root) {
		return nil, fmt.Errorf("answers.%s.root %q is not an element name", kind, spec.Root)
	}
	t := &template{root: spec.Root, namespace: spec.Namespace}
	outs, err := d.compileOuts(kind, spec.Fields, sources, nil)
	if err != nil {
		return nil, err
	}
	t.outs = outs
	return t, nil
}

func (d *Dialect) compileOuts(kind string, specs []OutSpec, sources map[string][]string, members []string) ([]*out, error) {
	var outs []*out
	for _, s := range specs {
		o := &out{from: s.From, konst: s.Const, codes: s.Codes}
		p, err := parsePath(s.To, true)
		if err != nil {
			return nil, fmt.Errorf("answers.%s: %w", kind, err)
		}
		o.to = p
		where := fmt.Sprintf("answers.%s %q", kind, s.To)
		if (s.From == "") == (s.Const == "") {
			return nil, fmt.Errorf("%s: needs exactly one of from and const", where)
		}
		u, ok := amountUnits[s.Amount]
		if !ok {
			return nil, fmt.Errorf("%s: amount must be yuan, wan or fen", where)
		}
		o.amount = u
		if s.Time != "" {
			if o.time, err = layout(s.Time, true); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		switch {
		case s.Const != "":
		case members != nil:
			if !slices.Contains(members, s.From) {
				return nil, fmt.Errorf("%s: %q is not one of %s", where, s.From, strings.Join(members, ", "))
			}
		case strings.HasSuffix(s.From, "[]"):
			ms, ok := sources[s.From]
			if !ok {
				return nil, fmt.Errorf("%s: no group %q", where, s.From)
			}
			if p.attr != "" || p.isSelf() {
				return nil, fmt.Errorf("%s: a group's path names its item element", where)
			}
			o.group = strings.TrimSuffix(s.From, "[]")
			if o.outs, err = d.compileOuts(kind, s.Fields, sources, ms); err != nil {
				return nil, err
			}
		case s.From == "decision" && kind == "event":
			if p.attr != "" {
				return nil, fmt.Errorf("%s: the decision is an element", where)
			}
			o.embed = true
		default:
			if _, ok := sources[s.From]; !ok {
				return nil, fmt.Errorf("%s: %q is not a %s value", where, s.From, kind)
			}
		}
		if o.group == "" && len(s.Fields) > 0 {
			return nil, fmt.Errorf("%s: fields belong to groups (from: \"x[]\")", where)
		}
		if s.Time != "" && !timeSources[s.From] {
			return nil, fmt.Errorf("%s: time applies to times only", where)
		}
		if s.Table != "" {
			if s.Codes != nil {
				return nil, fmt.Errorf("%s: codes and table exclude each other", where)
			}
			if o.table = d.codes[s.Table]; o.table == nil || o.table.parts != 1 {
				return nil, fmt.Errorf("%s: no single-part code table %q", where, s.Table)
			}
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// values is one answer flattened to its named values and groups.
type values struct {
	text   map[string]string
	times  map[string]time.Time
	dates  map[string]mortgage.Date
	fen    map[string]int64
	groups map[string][]values
}

func newValues() values {
	return values{text: map[string]string{}, times: map[string]time.Time{}, dates: map[string]mortgage.Date{},
		fen: map[string]int64{}, groups: map[string][]values{}}
}

// render writes the template's fields under el.
func (t *template) render(el *etree.Element, outs []*out, v values, loc *time.Location, embed func(*etree.Element)) {
	for _, o := range outs {
		switch {
		case o.embed:
			embed(o.to.create(el, false))
		case o.group != "":
			for _, item := range v.groups[o.group] {
				t.render(o.to.create(el, true), o.outs, item, loc, embed)
			}
		default:
			s, ok := o.value(v, loc)
			if !ok {
				continue
			}
			o.to.set(o.to.create(el, false), s)
		}
	}
}

func (o *out) value(v values, loc *time.Location) (string, bool) {
	if o.konst != "" {
		return o.konst, true
	}
	var s string
	if t, ok := v.times[o.from]; ok {
		if o.time == "" {
			s = t.In(loc).Format(time.RFC3339)
		} else {
			s = t.In(loc).Format(o.time)
		}
	} else if d, ok := v.dates[o.from]; ok {
		if o.time == "" {
			s = d.String()
		} else {
			s = d.Format(o.time)
		}
	} else if fen, ok := v.fen[o.from]; ok {
		s = formatAmount(fen, o.amount)
	} else {
		s = v.text[o.from]
	}
	if s == "" {
		return "", false
	}
	if o.codes != nil {
		c, ok := o.codes[s]
		if !ok {
			return "", false
		}
		s = c
	}
	if o.table != nil {
		parts, ok := o.table.reverse(s)
		if !ok {
			return "", false
		}
		s = parts[0]
	}
	return s, true
}

func (t *template) document() (*etree.Document, *etree.Element) {
	doc := problemxml.NewDocument()
	root := doc.CreateElement(t.root)
	if t.namespace != "" {
		root.CreateAttr("xmlns", t.namespace)
	}
	return doc, root
}

func (d *Dialect) decisionValues(dec *mortgage.Decision) values {
	v := newValues()
	v.text["bundleId"], v.text["reference"] = dec.BundleID, dec.Reference
	v.text["type"], v.text["status"] = string(dec.Type), string(dec.Status)
	v.times["receivedAt"] = dec.ReceivedAt
	if dec.Status != mortgage.StatusDesk { // at the desk nothing is decided yet
		v.times["decidedAt"] = dec.DecidedAt
	}
	if dec.Deadline != nil {
		v.times["deadline"] = *dec.Deadline
	}
	for _, p := range dec.Promises {
		item := newValues()
		item.text["kind"], item.dates["dueOn"] = p.Kind, p.DueOn
		if p.FulfilledAt != nil {
			item.times["fulfilledAt"] = *p.FulfilledAt
		}
		v.groups["promises"] = append(v.groups["promises"], item)
	}
	v.groups["deskReasons"] = d.issueValues(dec.DeskReasons)
	if r := dec.Registration; r != nil {
		v.text["registration.certificateNumber"] = r.CertificateNumber
		v.times["registration.registeredAt"] = r.RegisteredAt
		v.text["registration.recordingOfficer"] = r.RecordingOfficer
		for _, u := range r.Ranks {
			item := newValues()
			item.text["unitNumber"], item.text["rank"] = u.UnitNumber, strconv.Itoa(u.Rank)
			v.groups["registration.ranks"] = append(v.groups["registration.ranks"], item)
		}
	}
	if c := dec.Cancelled; c != nil {
		v.text["cancellation.certificateNumber"] = c.CertificateNumber
		v.times["cancellation.cancelledAt"] = c.CancelledAt
		v.text["cancellation.recordingOfficer"] = c.RecordingOfficer
	}
	if f := dec.Fee; f != nil {
		v.fen["fee.amount"] = f.AmountFen
		v.text["fee.payer"], v.text["fee.basis"] = f.Payer, f.Basis
	}
	v.groups["reasons"] = d.issueValues(dec.Reasons)
	return v
}

func (d *Dialect) issueValues(is mortgage.Issues) []values {
	var out []values
	for _, i := range is {
		item := newValues()
		item.text["field"], item.text["canonicalField"] = problemxml.PartnerField(i.Field, d.PartnerPath)
		item.text["code"], item.text["message"] = string(i.Code), i.Message
		out = append(out, item)
	}
	return out
}

// EncodeDecision writes a decision in the dialect, times in business time
// (loc), each reason's field as the partner's element path with the
// canonical path beside it where the template asks for both.
func (d *Dialect) EncodeDecision(dec *mortgage.Decision, loc *time.Location) ([]byte, error) {
	if d.decision == nil {
		return nil, d.noTemplate("decision")
	}
	doc, root := d.decision.document()
	d.decision.render(root, d.decision.outs, d.decisionValues(dec), loc, nil)
	return problemxml.Bytes(doc)
}

// EncodeProblem writes an error answer in the dialect.
func (d *Dialect) EncodeProblem(p fault.Problem) ([]byte, error) {
	if d.problem == nil {
		return nil, d.noTemplate("problem")
	}
	v := newValues()
	v.text["type"], v.text["title"], v.text["status"] = p.Type, p.Title, strconv.Itoa(p.Status)
	v.text["detail"], v.text["instance"], v.text["code"], v.text["bundleId"] = p.Detail, p.Instance, string(p.Code), p.BundleID
	v.groups["errors"] = d.issueValues(p.Errors)
	doc, root := d.problem.document()
	d.problem.render(root, d.problem.outs, v, time.UTC, nil)
	return problemxml.Bytes(doc)
}

// EncodeEvent writes a pushed or pulled event in the dialect. The
// certificate document travels as base64 of its exact issued bytes (the XML
// rendering when there is one) so the partner verifies the signature over
// what was signed.
func (d *Dialect) EncodeEvent(e mortgage.Event, loc *time.Location) ([]byte, error) {
	if d.event == nil || d.decision == nil {
		return nil, d.noTemplate("event")
	}
	v := newValues()
	v.text["id"], v.text["type"] = e.ID, string(e.Type)
	v.times["occurredAt"] = e.OccurredAt
	if c := e.Certificate; c != nil {
		v.text["certificate.number"], v.text["certificate.status"] = c.Number, c.Status
		v.text["certificate.verificationCode"], v.text["certificate.keyId"] = c.VerificationCode, c.KeyID
		document, signature, mediaType := c.XML, c.XMLSignature, "application/xml"
		if len(document) == 0 {
			document, signature, mediaType = c.JSON, c.JSONSignature, "application/json"
		}
		v.text["certificate.documentMediaType"] = mediaType
		v.text["certificate.document"] = base64.StdEncoding.EncodeToString(document)
		v.text["certificate.signature"] = base64.StdEncoding.EncodeToString(signature)
	}
	doc, root := d.event.document()
	d.event.render(root, d.event.outs, v, loc, func(at *etree.Element) {
		if e.Decision == nil {
			return
		}
		dd, droot := d.decision.document()
		d.decision.render(droot, d.decision.outs, d.decisionValues(e.Decision), loc, nil)
		at.AddChild(dd.Root())
	})
	return problemxml.Bytes(doc)
}

func (d *Dialect) noTemplate(kind string) error {
	return fmt.Errorf("xmlmap: dialect %s has no answers.%s template", d.Name, kind)
}

// PartnerPath turns a canonical field path (mortgagors[0].idNumber) into
// the dialect's element path (/DYDJSQ/DYR[1]/DYRZJH). A field the dialect
// does not carry maps to the root; a path starting with "/" is returned as
// it is.
func (d *Dialect) PartnerPath(canonical string) string {
	return d.PathAt("/"+d.root, canonical)
}

// PathAt is PartnerPath for a request element at base (/GJJDYPL/JL[3]).
func (d *Dialect) PathAt(base, canonical string) string {
	if strings.HasPrefix(canonical, "/") {
		return canonical
	}
	head, member, _ := strings.Cut(canonical, ".")
	name, idx, indexed := strings.Cut(head, "[")
	if g := d.group(name); g != nil {
		i := -1
		if indexed {
			n, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			if err != nil {
				return base
			}
			i = n
		}
		return g.path(base, i, member)
	}
	for _, f := range d.scalars {
		if f.target == canonical && len(f.from) > 0 {
			return f.from[0].xpath(base, 0)
		}
	}
	// An object (mortgage, cancellation, agent, mortgagee): the deepest
	// element all its mapped fields share.
	var common []step
	first := true
	for _, f := range d.scalars {
		if !strings.HasPrefix(f.target, canonical+".") || len(f.from) == 0 {
			continue
		}
		steps := f.from[0].steps
		if first {
			common, first = steps, false
			continue
		}
		n := 0
		for n < len(common) && n < len(steps) && common[n].String() == steps[n].String() {
			n++
		}
		common = common[:n]
	}
	return path{steps: common}.xpath(base, 0)
}

func (d *Dialect) group(name string) *group {
	for _, g := range d.groups {
		if g.target == name {
			return g
		}
	}
	return nil
}

// path is the partner's path of item i (0-based; -1 for the group as a
// whole) and, when member is set, of that member.
func (g *group) path(base string, i int, member string) string {
	if g.each != nil {
		p := g.each.xpath(base, i+1)
		if f := g.field(member); f != nil && len(f.from) > 0 {
			return f.from[0].xpath(p, 0)
		}
		return p
	}
	f := g.field(member)
	if f == nil {
		f = g.fields[0]
	}
	p := f.from[0]
	if member == "" && i >= 0 {
		return p.elementPart().xpath(base, i+1)
	}
	return p.elementPart().xpath(base, i+1) + attrSuffix(p)
}

// EncodeApplication writes an application as a request in the dialect,
// fields in mapping order: tests, samples and the batch generator use it so
// that every sample goes through the real decoder.
func (d *Dialect) EncodeApplication(a *mortgage.Application) ([]byte, error) {
	doc := problemxml.NewDocument()
	root := doc.CreateElement(d.root)
	if d.namespace != "" {
		root.CreateAttr("xmlns", d.namespace)
	}
	if err := d.EncodeElement(root, a); err != nil {
		return nil, err
	}
	return problemxml.Bytes(doc)
}

// EncodeElement writes an application's fields under el, the request's root
// element (or a batch record).
func (d *Dialect) EncodeElement(el *etree.Element, a *mortgage.Application) error {
	scalars := scalarValues(a)
	groups := groupValues(a)
	gi := 0
	for _, spec := range d.file.Request.Fields {
		if strings.HasSuffix(spec.To, "[]") {
			g := d.groups[gi]
			gi++
			for _, item := range groups[g.target] {
				if g.each != nil {
					itemEl := g.each.create(el, true)
					for _, f := range g.fields {
						if err := f.write(itemEl, item[f.target], false); err != nil {
							return err
						}
					}
					continue
				}
				for _, f := range g.fields {
					if err := f.write(el, item[f.target], true); err != nil {
						return err
					}
				}
			}
			continue
		}
		for _, f := range d.scalars {
			if f.target == spec.To {
				if err := f.write(el, scalars[f.target], false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// canonicalValue is a canonical field's value before the partner's encoding.
type canonicalValue struct {
	text    string
	fen     int64
	date    mortgage.Date
	boolean *bool
	bytes   []byte
	set     bool
}

func txt(s string) canonicalValue { return canonicalValue{text: s, set: s != ""} }

func scalarValues(a *mortgage.Application) map[string]canonicalValue {
	v := map[string]canonicalValue{
		"reference": txt(a.Reference), "type": txt(string(a.Type)), "feeExemption": txt(a.FeeExemption), "remarks": txt(a.Remarks),
		"mortgagee.name": txt(a.Mortgagee.Name), "mortgagee.idType": txt(a.Mortgagee.IDType), "mortgagee.idNumber": txt(a.Mortgagee.IDNumber),
		"reviewRequest": txt(a.ReviewRequest),
	}
	if p := a.Agent; p != nil {
		v["agent.name"], v["agent.idType"], v["agent.idNumber"] = txt(p.Name), txt(p.IDType), txt(p.IDNumber)
	}
	if t := a.Mortgage; t != nil {
		v["mortgage.collateralKind"], v["mortgage.scope"] = txt(t.CollateralKind), txt(t.Scope)
		v["mortgage.principalAmount"] = canonicalValue{fen: t.PrincipalFen, set: t.PrincipalFen != 0}
		v["mortgage.maximumAmount"] = canonicalValue{fen: t.MaximumFen, set: t.MaximumFen != 0}
		v["mortgage.debtStart"] = canonicalValue{date: t.DebtStart, set: !t.DebtStart.IsZero()}
		v["mortgage.debtEnd"] = canonicalValue{date: t.DebtEnd, set: !t.DebtEnd.IsZero()}
		v["mortgage.transferRestricted"] = canonicalValue{boolean: t.TransferRestricted, set: t.TransferRestricted != nil}
	}
	if c := a.Cancellation; c != nil {
		v["cancellation.certificateNumber"], v["cancellation.reason"] = txt(c.CertificateNumber), txt(c.Reason)
	}
	return v
}

func groupValues(a *mortgage.Application) map[string][]map[string]canonicalValue {
	g := map[string][]map[string]canonicalValue{}
	for _, u := range a.Units {
		g["units"] = append(g["units"], map[string]canonicalValue{"unitNumber": txt(u.UnitNumber), "titleCertificateNumber": txt(u.TitleCertificateNumber)})
	}
	party := func(p mortgage.Party) map[string]canonicalValue {
		return map[string]canonicalValue{"name": txt(p.Name), "idType": txt(p.IDType), "idNumber": txt(p.IDNumber)}
	}
	for _, p := range a.Mortgagors {
		g["mortgagors"] = append(g["mortgagors"], party(p))
	}
	for _, p := range a.Debtors {
		g["debtors"] = append(g["debtors"], party(p))
	}
	for _, m := range a.Materials {
		g["materials"] = append(g["materials"], map[string]canonicalValue{"kind": txt(m.Kind), "fileName": txt(m.FileName),
			"mediaType": txt(m.MediaType), "sha256": txt(m.SHA256), "content": {bytes: m.Content, set: true}})
	}
	for _, p := range a.Promises {
		g["promises"] = append(g["promises"], map[string]canonicalValue{"kind": txt(p.Kind), "dueOn": {date: p.DueOn, set: !p.DueOn.IsZero()}})
	}
	return g
}

// write encodes one canonical value at the field's path(s) under el; fresh
// makes a new element for the value (a member of a parallel group).
func (f *field) write(el *etree.Element, v canonicalValue, fresh bool) error {
	if !v.set || f.constant != "" {
		return nil
	}
	var s string
	switch f.kind {
	case kindAmount:
		s = formatAmount(v.fen, f.amount)
	case kindDate:
		s = v.date.Format(f.dates[0])
	case kindBool:
		s = strconv.FormatBool(*v.boolean)
	case kindBase64:
		s = base64.StdEncoding.EncodeToString(v.bytes)
	default:
		s = v.text
	}
	parts := []string{s}
	if f.codes != nil {
		var ok bool
		if parts, ok = f.codes.reverse(s); !ok {
			return fmt.Errorf("xmlmap: %s: %q has no code in table %s", f.target, s, f.codes.name)
		}
	}
	for i, p := range f.from {
		if parts[i] == "" {
			continue
		}
		target := el
		if !p.isSelf() {
			target = p.elementPart().create(el, fresh)
		}
		p.set(target, parts[i])
	}
	return nil
}
