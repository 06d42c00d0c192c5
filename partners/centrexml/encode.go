package centrexml

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/problemxml"
)

// listItems names the item element of each list: the JSON array's name in
// the singular.
var listItems = map[string]string{
	"units": "unit", "mortgagors": "mortgagor", "debtors": "debtor", "materials": "material",
	"ranks": "unitRank", "reasons": "reason", "promises": "promise",
}

// PartnerPath turns a canonical field path (mortgagors[0].idNumber, as in
// JSON v1 and mortgage.Validate) into the element path of XML v1
// (/application/mortgagors/mortgagor[1]/idNumber). A path that already
// starts with "/" is returned as it is.
func PartnerPath(canonical string) string {
	if strings.HasPrefix(canonical, "/") {
		return canonical
	}
	var b strings.Builder
	b.WriteString("/application")
	if canonical == "" {
		return b.String()
	}
	for _, seg := range strings.Split(canonical, ".") {
		name, idx, ok := strings.Cut(seg, "[")
		b.WriteString("/" + name)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
		item := listItems[name]
		if err != nil || item == "" {
			continue
		}
		fmt.Fprintf(&b, "/%s[%d]", item, n+1)
	}
	return b.String()
}

// newRoot starts an outgoing document with its root in the format's namespace.
func newRoot(name string) (*etree.Document, *etree.Element) {
	doc := problemxml.NewDocument()
	root := doc.CreateElement(name)
	root.CreateAttr("xmlns", Namespace)
	return doc, root
}

var text = problemxml.Text

// EncodeApplication writes an application as an XML v1 request body, as a
// bank's core system would send it: tests, examples and tools use it so that
// every sample goes through the real decoder.
func EncodeApplication(a *mortgage.Application) ([]byte, error) {
	doc, root := newRoot("application")
	text(root, "reference", a.Reference)
	text(root, "type", string(a.Type))
	if len(a.Units) > 0 {
		us := root.CreateElement("units")
		for _, u := range a.Units {
			e := us.CreateElement("unit")
			text(e, "unitNumber", u.UnitNumber)
			text(e, "titleCertificateNumber", u.TitleCertificateNumber)
		}
	}
	parties(root, "mortgagors", "mortgagor", a.Mortgagors)
	party(root, "mortgagee", a.Mortgagee)
	parties(root, "debtors", "debtor", a.Debtors)
	if a.Agent != nil {
		party(root, "agent", *a.Agent)
	}
	if t := a.Mortgage; t != nil {
		e := root.CreateElement("mortgage")
		text(e, "collateralKind", t.CollateralKind)
		if t.PrincipalFen != 0 {
			text(e, "principalAmount", mortgage.FormatYuan(t.PrincipalFen))
		}
		if t.MaximumFen != 0 {
			text(e, "maximumAmount", mortgage.FormatYuan(t.MaximumFen))
		}
		text(e, "debtStart", dateString(t.DebtStart))
		text(e, "debtEnd", dateString(t.DebtEnd))
		text(e, "scope", t.Scope)
		if t.TransferRestricted != nil {
			text(e, "transferRestricted", strconv.FormatBool(*t.TransferRestricted))
		}
	}
	if c := a.Cancellation; c != nil {
		e := root.CreateElement("cancellation")
		text(e, "certificateNumber", c.CertificateNumber)
		text(e, "reason", c.Reason)
	}
	text(root, "feeExemption", a.FeeExemption)
	text(root, "remarks", a.Remarks)
	ms := root.CreateElement("materials")
	for _, m := range a.Materials {
		material(ms.CreateElement("material"), m)
	}
	if len(a.Promises) > 0 {
		ps := root.CreateElement("promises")
		for _, p := range a.Promises {
			e := ps.CreateElement("promise")
			text(e, "kind", p.Kind)
			text(e, "dueOn", dateString(p.DueOn))
		}
	}
	text(root, "reviewRequest", a.ReviewRequest)
	return problemxml.Bytes(doc)
}

func material(e *etree.Element, m mortgage.Material) {
	text(e, "kind", m.Kind)
	text(e, "fileName", m.FileName)
	text(e, "mediaType", m.MediaType)
	text(e, "sha256", m.SHA256)
	e.CreateElement("content").SetText(base64.StdEncoding.EncodeToString(m.Content))
}

// EncodeMaterial writes one document as DecodeMaterial reads it.
func EncodeMaterial(m mortgage.Material) ([]byte, error) {
	doc, root := newRoot("material")
	material(root, m)
	return problemxml.Bytes(doc)
}

func parties(root *etree.Element, list, item string, ps []mortgage.Party) {
	if len(ps) == 0 {
		return
	}
	l := root.CreateElement(list)
	for _, p := range ps {
		party(l, item, p)
	}
}

func party(parent *etree.Element, name string, p mortgage.Party) {
	e := parent.CreateElement(name)
	text(e, "name", p.Name)
	text(e, "idType", p.IDType)
	text(e, "idNumber", p.IDNumber)
}

func dateString(d mortgage.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// EncodeDecision writes a decision as XML v1, times in business time (loc):
// the same content as JSON v1, each reason's field in XML v1 terms with the
// canonical path beside it.
func EncodeDecision(d *mortgage.Decision, loc *time.Location) ([]byte, error) {
	doc, root := newRoot("decision")
	decision(root, d, loc)
	return problemxml.Bytes(doc)
}

func decision(root *etree.Element, d *mortgage.Decision, loc *time.Location) {
	ts := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	text(root, "bundleId", d.BundleID)
	text(root, "reference", d.Reference)
	text(root, "type", string(d.Type))
	text(root, "status", string(d.Status))
	text(root, "receivedAt", ts(d.ReceivedAt))
	if d.Status != mortgage.StatusDesk { // at the desk nothing is decided yet
		text(root, "decidedAt", ts(d.DecidedAt))
	}
	if r := d.Registration; r != nil {
		e := root.CreateElement("registration")
		text(e, "certificateNumber", r.CertificateNumber)
		text(e, "registeredAt", ts(r.RegisteredAt))
		text(e, "recordingOfficer", r.RecordingOfficer)
		ranks := e.CreateElement("ranks")
		for _, u := range r.Ranks {
			ur := ranks.CreateElement("unitRank")
			text(ur, "unitNumber", u.UnitNumber)
			text(ur, "rank", strconv.Itoa(u.Rank))
		}
	}
	if c := d.Cancelled; c != nil {
		e := root.CreateElement("cancellation")
		text(e, "certificateNumber", c.CertificateNumber)
		text(e, "cancelledAt", ts(c.CancelledAt))
		text(e, "recordingOfficer", c.RecordingOfficer)
	}
	if f := d.Fee; f != nil {
		e := root.CreateElement("fee")
		text(e, "amount", mortgage.FormatYuan(f.AmountFen))
		text(e, "payer", f.Payer)
		text(e, "basis", f.Basis)
	}
	reasons(root.CreateElement("reasons"), d.Reasons)
	if len(d.DeskReasons) > 0 {
		reasons(root.CreateElement("deskReasons"), d.DeskReasons)
	}
	if d.Deadline != nil {
		text(root, "deadline", ts(*d.Deadline))
	}
	if len(d.Promises) > 0 {
		ps := root.CreateElement("promises")
		for _, p := range d.Promises {
			e := ps.CreateElement("promise")
			text(e, "kind", p.Kind)
			text(e, "dueOn", dateString(p.DueOn))
			if p.FulfilledAt != nil {
				text(e, "fulfilledAt", ts(*p.FulfilledAt))
			}
		}
	}
}

// reasons writes issues as <reason> items, each field in XML v1 terms with
// the canonical path beside it.
func reasons(list *etree.Element, is mortgage.Issues) {
	for _, i := range is {
		partner, canonical := problemxml.PartnerField(i.Field, PartnerPath)
		e := list.CreateElement("reason")
		text(e, "field", partner)
		text(e, "canonicalField", canonical)
		text(e, "code", string(i.Code))
		text(e, "message", i.Message)
	}
}

// EncodeProblem writes an error answer as application/problem+xml with each
// field in XML v1 terms and the canonical path beside it.
func EncodeProblem(p fault.Problem) ([]byte, error) {
	return problemxml.Encode(p, PartnerPath)
}

// EncodeEvent writes a pushed or pulled event as XML v1: the bundle in the
// same shape as the API's decision, and the certificate when the event
// carries one. The certificate document travels as base64 of the exact
// issued bytes (its XML rendering when there is one), so the partner checks
// the signature over what was signed, never over a re-serialisation.
func EncodeEvent(e mortgage.Event, loc *time.Location) ([]byte, error) {
	doc, root := newRoot("event")
	text(root, "id", e.ID)
	text(root, "type", string(e.Type))
	text(root, "occurredAt", e.OccurredAt.In(loc).Format(time.RFC3339))
	if e.Decision != nil {
		decision(root.CreateElement("bundle"), e.Decision, loc)
	}
	if c := e.Certificate; c != nil {
		ce := root.CreateElement("certificate")
		text(ce, "number", c.Number)
		text(ce, "status", c.Status)
		text(ce, "verificationCode", c.VerificationCode)
		text(ce, "keyId", c.KeyID)
		document, signature, mediaType := c.XML, c.XMLSignature, "application/xml"
		if len(document) == 0 {
			document, signature, mediaType = c.JSON, c.JSONSignature, "application/json"
		}
		text(ce, "documentMediaType", mediaType)
		text(ce, "document", base64.StdEncoding.EncodeToString(document))
		text(ce, "signature", base64.StdEncoding.EncodeToString(signature))
	}
	return problemxml.Bytes(doc)
}
