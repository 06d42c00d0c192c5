package certificate

import (
	"strconv"

	"github.com/beevik/etree"
)

// Namespace is the XML namespace of the certificate document
// (docs/formats/certificate-v1.xsd).
const Namespace = "urn:mortgaged:certificate:v1"

// XML is the certificate's XML rendering for XML partners: the same fields
// under the same names as the JSON, in the same order, indented with two
// spaces, UTF-8 with an XML declaration. Like the JSON it is signed as
// bytes; nobody should verify a re-serialisation of it.
func (c *Document) XML() ([]byte, error) {
	doc := etree.NewDocument()
	doc.WriteSettings = etree.WriteSettings{CanonicalEndTags: true}
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("certificate")
	root.CreateAttr("xmlns", Namespace)
	root.CreateAttr("format", c.Format)

	xmlText(root, "title", c.Title)
	xmlText(root, "number", c.Number)
	xmlText(root, "matter", c.Matter)
	xmlText(root, "registrationType", c.RegistrationType)
	xmlParty(root, "rightHolder", c.RightHolder)
	xmlParties(root, "obligors", c.Obligors)
	units := root.CreateElement("units")
	for _, u := range c.Units {
		e := units.CreateElement("unit")
		xmlText(e, "unitNumber", u.UnitNumber)
		xmlText(e, "location", u.Location)
		xmlText(e, "titleCertificateNumber", u.TitleCertificateNumber)
		xmlText(e, "rank", strconv.Itoa(u.Rank))
	}
	m := root.CreateElement("mortgage")
	xmlText(m, "kind", c.Mortgage.Kind)
	xmlText(m, "kindLabel", c.Mortgage.KindLabel)
	xmlText(m, "collateralKind", c.Mortgage.CollateralKind)
	xmlText(m, "collateralKindLabel", c.Mortgage.CollateralKindLabel)
	if c.Mortgage.PrincipalAmount != "" {
		xmlText(m, "principalAmount", c.Mortgage.PrincipalAmount)
	}
	if c.Mortgage.MaximumAmount != "" {
		xmlText(m, "maximumAmount", c.Mortgage.MaximumAmount)
	}
	xmlText(m, "debtStart", c.Mortgage.DebtStart)
	xmlText(m, "debtEnd", c.Mortgage.DebtEnd)
	xmlText(m, "scope", c.Mortgage.Scope)
	xmlText(m, "transferRestricted", strconv.FormatBool(c.Mortgage.TransferRestricted))
	xmlParties(m, "debtors", c.Mortgage.Debtors)
	xmlText(root, "remarks", c.Remarks)
	xmlText(root, "registeredAt", c.RegisteredAt)
	xmlText(root, "recordingOfficer", c.RecordingOfficer)
	xmlText(root, "authority", c.Authority)
	xmlText(root, "verificationCode", c.VerificationCode)

	doc.Indent(2)
	return doc.WriteToBytes()
}

func xmlText(parent *etree.Element, tag, value string) {
	parent.CreateElement(tag).SetText(value)
}

func xmlParty(parent *etree.Element, tag string, p Party) {
	e := parent.CreateElement(tag)
	xmlText(e, "name", p.Name)
	xmlText(e, "idType", p.IDType)
	xmlText(e, "idNumber", p.IDNumber)
}

func xmlParties(parent *etree.Element, tag string, ps []Party) {
	e := parent.CreateElement(tag)
	for _, p := range ps {
		xmlParty(e, "party", p)
	}
}
