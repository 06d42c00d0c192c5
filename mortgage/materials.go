package mortgage

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// Document kinds (材料类型) an application may carry, with their Chinese names.
var MaterialKinds = map[string]string{
	"application_form":          "不动产登记申请书",
	"loan_contract":             "主债权合同",
	"mortgage_contract":         "抵押合同",
	"maximum_mortgage_contract": "最高额抵押合同",
	"authorisation":             "授权委托书",
	"debt_extinguished_proof":   "主债权消灭证明",
	"preregistration_consent":   "预告登记权利人同意书",
	"coowner_notice":            "已通知其他按份共有人的书面证明",
	"objection_undertaking":     "异议登记期间风险自担承诺书",
	"identity_document":         "身份证明",
	"business_licence":          "营业执照",
	MaterialSMEProof:            "小微企业（含个体工商户）证明材料",
	"other":                     "其他材料",
}

// MaterialSMEProof is the evidence for the small/micro-enterprise fee
// exemption: the enterprise's written statement that it is small or micro
// under the national size standards, or the licence of an individual
// business (个体工商户) whose operator owns the property.
const MaterialSMEProof = "small_micro_enterprise_proof"

// requiredMaterials are the documents each type cannot do without. Identity
// documents, business licences and the title certificate are not demanded:
// the centre gets them by data sharing or holds them itself. A general
// mortgage's contract may be a clause of the loan contract (实施细则第六十六条)
// and a cancellation by the mortgagee alone is its giving up the right, so
// neither a separate mortgage contract nor proof the debt is extinguished is
// required unless a strict rule says so (strictMaterials).
var requiredMaterials = map[Type][]string{
	FirstGeneral: {"application_form", "loan_contract"},
	FirstMaximum: {"application_form", "maximum_mortgage_contract"},
	Cancellation: {"application_form"},
}

// strictMaterials are the documents each type needs beyond the law when
// the centre switches the strict rule on.
func strictMaterials(t Type, strict StrictRules) []string {
	switch {
	case t == FirstGeneral && strict.SeparateMortgageContract:
		return []string{"mortgage_contract"}
	case t == Cancellation && strict.DebtExtinguishedProof:
		return []string{"debt_extinguished_proof"}
	}
	return nil
}

// DefaultPromisable are the documents an applicant may promise for later
// (容缺受理) unless the installation configures otherwise: those the
// centre's plan names (business licence, identity documents), which are also
// those it gets by data sharing. Documents that prove the mortgage itself
// (loan and mortgage contracts, the title reference) are never among them
// by default: 容缺受理 is 先行受理, not registration without them.
var DefaultPromisable = []string{"business_licence", "identity_document"}

// NeedsMaterial reports whether the registration cannot do without a
// document of the kind: a promised one must arrive before 登簿.
func (a *Application) NeedsMaterial(kind string, strict StrictRules) bool {
	return slices.Contains(neededMaterials(a, strict), kind)
}

// neededMaterials are the documents the registration of a cannot do
// without: the type's required ones, and the authorisation when an agent
// applies. A promised one must arrive before the bundle is registered.
func neededMaterials(a *Application, strict StrictRules) []string {
	required := slices.Concat(requiredMaterials[a.Type], strictMaterials(a.Type, strict))
	if a.Agent != nil {
		required = append(required, "authorisation")
	}
	return required
}

// MaterialMediaTypes are the accepted document formats.
var MaterialMediaTypes = map[string]bool{
	"application/pdf": true,
	"application/ofd": true,
	"image/jpeg":      true,
	"image/png":       true,
}

// MaxMaterialBytes caps one document; larger scans must be split or compressed.
const MaxMaterialBytes = 10 << 20

// magicMatches checks the content starts as its declared media type does, so a
// mislabelled file is caught at the door rather than by a reviewer.
func magicMatches(mediaType string, b []byte) bool {
	has := func(prefix string) bool { return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix }
	switch mediaType {
	case "application/pdf":
		return has("%PDF-")
	case "image/jpeg":
		return has("\xff\xd8\xff")
	case "image/png":
		return has("\x89PNG\r\n\x1a\n")
	case "application/ofd":
		return has("PK\x03\x04") // OFD is a zip package
	}
	return false
}

// checkDocument checks one document at field path p whatever it comes with
// (a bundle's materials, an encumbrance query's consent): a file name, an
// accepted format, content within the cap, the declared SHA-256 and a file
// header that matches the format. The kind is the caller's to check.
func checkDocument(is *Issues, p string, m Material) {
	text(is, p+".fileName", m.FileName, true, 200)
	if !MaterialMediaTypes[m.MediaType] {
		is.Add(p+".mediaType", CodeMaterialMedia, "材料格式“%s”不受理，可用 PDF、OFD、JPEG、PNG", Clip(m.MediaType))
	}
	switch {
	case len(m.Content) == 0:
		is.Add(p+".content", CodeMaterialEmpty, "材料内容为空")
		return
	case len(m.Content) > MaxMaterialBytes:
		is.Add(p+".content", CodeMaterialTooLarge, "单份材料不能超过 %d MB", MaxMaterialBytes>>20)
		return
	}
	sum := sha256.Sum256(m.Content)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), m.SHA256) {
		is.Add(p+".sha256", CodeMaterialHash, "材料内容的 SHA-256 与声明值不一致")
	} else if MaterialMediaTypes[m.MediaType] && !magicMatches(m.MediaType, m.Content) {
		is.Add(p+".content", CodeMaterialContent, "材料内容不是声明的 %s 格式", m.MediaType)
	}
}
