package mortgage

import (
	"fmt"
	"strings"

	"unicode/utf8"
)

// Validation codes beyond the identifier ones in ident.go.
const (
	CodeRequired          Code = "required"
	CodeReferenceFormat   Code = "reference_format"
	CodeReferenceConflict Code = "reference_conflict" // a reference already used for other content: 409 for a bundle (ConflictError), a batch record's result
	CodeNotAllowed        Code = "not_allowed"
	CodeTypeUnknown       Code = "type_unknown"
	CodeIDTypeUnknown     Code = "id_type_unknown"
	CodeTooLong           Code = "too_long"
	CodeUnitDuplicate     Code = "unit_duplicate"
	CodeTooMany           Code = "too_many"
	CodeAmountFormat      Code = "amount_format"
	CodeAmountNotPositive Code = "amount_not_positive"
	CodeAmountTooLarge    Code = "amount_too_large"
	CodeDateFormat        Code = "date_format"
	CodeDebtPeriodOrder   Code = "debt_period_order"
	CodeDebtPeriodEnded   Code = "debt_period_ended"
	CodeDebtPeriodTooLong Code = "debt_period_too_long"
	CodeDebtStartTooLate  Code = "debt_start_too_late"
	CodeCollateralUnknown Code = "collateral_kind_unknown"
	CodeMortgageeMismatch Code = "mortgagee_not_partner"
	CodeFeeExemption      Code = "fee_exemption_invalid"
	CodeMaterialMissing   Code = "material_missing"
	CodeMaterialKind      Code = "material_kind_unknown"
	CodeMaterialMedia     Code = "material_media_type"
	CodeMaterialTooLarge  Code = "material_too_large"
	CodeMaterialEmpty     Code = "material_empty"
	CodeMaterialHash      Code = "material_sha256_mismatch"
	CodeMaterialContent   Code = "material_content_mismatch"
)

// Limits that keep an application to a size a person can review.
const (
	MaxUnits        = 50
	MaxParties      = 20
	MaxMaterials    = 30
	MaxTextRunes    = 500
	MaxDebtYears    = 50
	FeeExemptionSME = "small_micro_enterprise" // 小微企业（含个体工商户）免收登记费
)

// Rules are the facts validation needs from outside the application.
type Rules struct {
	Today Date // business date in Asia/Shanghai
	// Mortgagees are the names and credit codes the submitting partner is
	// registered as (PROMISES S8): the mortgagee must be one of them, name
	// and code together. When empty, only the credit code is checked,
	// against PartnerCreditCode.
	Mortgagees        []Mortgagee
	PartnerCreditCode string
	// Strict are the demands beyond the law the centre has switched on.
	Strict StrictRules
}

// Validate checks an application on its own, without the register, and
// returns every fault. Field paths follow the centre's JSON format v1.
func Validate(a *Application, r Rules) Issues {
	var is Issues
	checkText(&is, a)
	text(&is, "reference", a.Reference, true, 64)
	if strings.IndexFunc(a.Reference, func(r rune) bool { return r < '!' || r > '~' }) >= 0 {
		is.Add("reference", CodeReferenceFormat, "业务编号只能由可见 ASCII 字符组成（字母、数字、- _ . / 等），不含空格")
	}
	if !a.Type.Known() {
		is.Add("type", CodeTypeUnknown, "未知的登记类型“%s”，可选：%s、%s、%s", Clip(string(a.Type)), FirstGeneral, FirstMaximum, Cancellation)
		return is // which other rules apply depends on the type
	}
	validateUnits(&is, a)
	is.validateParty("mortgagee", a.Mortgagee, r.Today)
	validateMortgagee(&is, a.Mortgagee, r)
	if a.Agent != nil {
		is.validateParty("agent", *a.Agent, r.Today)
	}
	if a.Type.IsFirst() {
		validateFirst(&is, a, r)
	} else {
		validateCancellation(&is, a)
	}
	text(&is, "remarks", a.Remarks, false, MaxTextRunes)
	validateMaterials(&is, a, r)
	return is
}

// validateMortgagee checks that the mortgagee is the submitting partner: a
// name and credit code it is registered as, the pair and not just the code,
// or another bank's name would reach the register and the certificate.
func validateMortgagee(is *Issues, m Party, r Rules) {
	code, name := strings.TrimSpace(m.IDNumber), strings.TrimSpace(m.Name)
	if code == "" {
		return // required, reported with the party
	}
	notPartner := func() {
		// One message whether branches are known or not: the documented
		// examples are answered the same by every caller.
		is.Add("mortgagee.idNumber", CodeMortgageeMismatch, "抵押权人必须是提交申请的机构本身（统一社会信用代码 %s）", r.PartnerCreditCode)
	}
	if len(r.Mortgagees) == 0 {
		if r.PartnerCreditCode != "" && code != r.PartnerCreditCode {
			notPartner()
		}
		return
	}
	var held *Mortgagee
	for i := range r.Mortgagees {
		if r.Mortgagees[i].CreditCode == code {
			held = &r.Mortgagees[i]
			break
		}
	}
	switch {
	case held == nil && r.PartnerCreditCode != "":
		notPartner()
	case held == nil:
		is.Add("mortgagee.idNumber", CodeMortgageeMismatch, "抵押权人必须是提交申请的机构本身或登记中心为其登记的分支机构")
	case name != "" && name != held.Name:
		is.Add("mortgagee.name", CodeMortgageeMismatch, "抵押权人名称与登记中心为统一社会信用代码 %s 登记的名称“%s”不一致", code, held.Name)
	}
}

func validateUnits(is *Issues, a *Application) {
	if len(a.Units) == 0 {
		if a.Type.IsFirst() {
			is.Add("units", CodeRequired, "至少需要一个不动产单元")
		}
		return
	}
	if len(a.Units) > MaxUnits {
		is.Add("units", CodeTooMany, "一件申请最多 %d 个不动产单元", MaxUnits)
		return
	}
	seen := map[string]bool{}
	for i, u := range a.Units {
		p := fmt.Sprintf("units[%d]", i)
		switch {
		case u.UnitNumber == "":
			is.Add(p+".unitNumber", CodeRequired, "缺少不动产单元号")
		case CheckUnitNumber(u.UnitNumber) != "":
			is.Add(p+".unitNumber", CodeUnitNumberFormat, "不动产单元号“%s”不符合 GB/T 37346 的 28 位结构", Clip(u.UnitNumber))
		case seen[u.UnitNumber]:
			is.Add(p+".unitNumber", CodeUnitDuplicate, "不动产单元号 %s 重复", u.UnitNumber)
		}
		seen[u.UnitNumber] = true
		if a.Type.IsFirst() && u.TitleCertificateNumber == "" {
			is.Add(p+".titleCertificateNumber", CodeRequired, "缺少不动产权证书号")
		}
		if u.TitleCertificateNumber != "" {
			c, err := ParseCertificateNumber(u.TitleCertificateNumber)
			if err != nil || c.Kind != CertTitle {
				is.Add(p+".titleCertificateNumber", CodeCertNumberFormat, "不动产权证书号“%s”格式不正确，应如 黑(2020)齐齐哈尔市不动产权第0000001号", Clip(u.TitleCertificateNumber))
			}
		}
	}
}

func validateFirst(is *Issues, a *Application, r Rules) {
	if len(a.Mortgagors) == 0 {
		is.Add("mortgagors", CodeRequired, "至少需要一名抵押人")
	}
	is.validateParties("mortgagors", a.Mortgagors, r.Today)
	is.validateParties("debtors", a.Debtors, r.Today)
	if a.Cancellation != nil {
		is.Add("cancellation", CodeNotAllowed, "首次登记不应填写注销信息")
	}
	t := a.Mortgage
	if t == nil {
		is.Add("mortgage", CodeRequired, "缺少抵押权信息")
		return
	}
	if _, ok := CollateralKinds[t.CollateralKind]; !ok {
		is.Add("mortgage.collateralKind", CodeCollateralUnknown, "抵押不动产类型“%s”无效，应为 1–7", Clip(t.CollateralKind))
	}
	amount := func(field string, fen int64, name string) {
		switch {
		case fen <= 0:
			is.Add(field, CodeAmountNotPositive, "%s必须大于零", name)
		case fen > MaxAmountFen:
			is.Add(field, CodeAmountTooLarge, "%s超过上限", name)
		}
	}
	if a.Type == FirstGeneral {
		amount("mortgage.principalAmount", t.PrincipalFen, "被担保主债权数额")
		if t.MaximumFen != 0 {
			is.Add("mortgage.maximumAmount", CodeNotAllowed, "一般抵押不填写最高债权额")
		}
	} else {
		amount("mortgage.maximumAmount", t.MaximumFen, "最高债权额")
		if t.PrincipalFen != 0 {
			is.Add("mortgage.principalAmount", CodeNotAllowed, "最高额抵押不填写被担保主债权数额，请填写最高债权额")
		}
	}
	validateDebtPeriod(is, t, r)
	text(is, "mortgage.scope", t.Scope, true, MaxTextRunes)
	if t.TransferRestricted == nil {
		is.Add("mortgage.transferRestricted", CodeRequired, "须写明是否约定禁止或限制转让抵押不动产")
	}
	switch a.FeeExemption {
	case "":
	case FeeExemptionSME:
		// Evidence, not the bank's word; any mortgagor may claim it with
		// evidence, since an individual business's property is in its
		// operator's own name (2559, 减免规定).
		if !a.HasMaterial(MaterialSMEProof) {
			is.Add("materials", CodeFeeExemption, "申请小微企业免收登记费须提交小微企业（含个体工商户）证明材料（%s），如小微企业书面承诺书或个体工商户营业执照", MaterialSMEProof)
		}
	default:
		is.Add("feeExemption", CodeFeeExemption, "未知的减免类型“%s”，可选：%s", Clip(a.FeeExemption), FeeExemptionSME)
	}
}

func validateDebtPeriod(is *Issues, t *Terms, r Rules) {
	today := r.Today
	if t.DebtStart.IsZero() {
		is.Add("mortgage.debtStart", CodeRequired, "缺少债务履行期限起始日期")
	}
	if t.DebtEnd.IsZero() {
		is.Add("mortgage.debtEnd", CodeRequired, "缺少债务履行期限结束日期")
	}
	if t.DebtStart.IsZero() || t.DebtEnd.IsZero() {
		return
	}
	if t.DebtEnd.Before(t.DebtStart.Time) {
		is.Add("mortgage.debtEnd", CodeDebtPeriodOrder, "债务履行期限结束日期 %s 早于起始日期 %s", t.DebtEnd, t.DebtStart)
	}
	if t.DebtEnd.Before(today.Time) && r.Strict.DebtPeriodEnded {
		is.Add("mortgage.debtEnd", CodeDebtPeriodEnded, "债务履行期限已于 %s 届满，不能设立抵押", t.DebtEnd)
	}
	if t.DebtEnd.After(t.DebtStart.AddDate(MaxDebtYears, 0, 0)) {
		is.Add("mortgage.debtEnd", CodeDebtPeriodTooLong, "债务履行期限超过 %d 年", MaxDebtYears)
	}
	if t.DebtStart.After(today.AddDate(1, 0, 0)) {
		is.Add("mortgage.debtStart", CodeDebtStartTooLate, "债务履行期限起始日期 %s 晚于今天一年以上", t.DebtStart)
	}
}

func validateCancellation(is *Issues, a *Application) {
	if a.Mortgage != nil {
		is.Add("mortgage", CodeNotAllowed, "注销登记不应填写抵押权设立信息")
	}
	if a.FeeExemption != "" {
		is.Add("feeExemption", CodeNotAllowed, "注销登记不收费，无需减免")
	}
	c := a.Cancellation
	if c == nil {
		is.Add("cancellation", CodeRequired, "缺少注销信息（不动产登记证明号和注销原因）")
		return
	}
	if c.CertificateNumber == "" {
		is.Add("cancellation.certificateNumber", CodeRequired, "缺少要注销的不动产登记证明号")
	} else if n, err := ParseCertificateNumber(c.CertificateNumber); err != nil || n.Kind != CertRegistration {
		is.Add("cancellation.certificateNumber", CodeCertNumberFormat, "不动产登记证明号“%s”格式不正确，应如 黑(2026)齐齐哈尔市不动产证明第0000123号", Clip(c.CertificateNumber))
	}
	text(is, "cancellation.reason", c.Reason, true, MaxTextRunes)
}

func validateMaterials(is *Issues, a *Application, r Rules) {
	if len(a.Materials) > MaxMaterials {
		is.Add("materials", CodeTooMany, "一件申请最多 %d 份材料", MaxMaterials)
	}
	for i, m := range a.Materials {
		p := fmt.Sprintf("materials[%d]", i)
		if _, ok := MaterialKinds[m.Kind]; !ok {
			is.Add(p+".kind", CodeMaterialKind, "未知的材料类型“%s”", Clip(m.Kind))
		}
		checkDocument(is, p, m)
	}
	for _, kind := range neededMaterials(a, r.Strict) {
		if !a.HasMaterial(kind) && !a.Promised(kind) {
			is.Add("materials", CodeMaterialMissing, "缺少%s（%s）", MaterialKinds[kind], kind)
		}
	}
	validatePromises(is, a, r.Today)
}

// validatePromises checks promises on their own; whether the centre accepts
// them is a routing rule, checked in the service.
func validatePromises(is *Issues, a *Application, today Date) {
	seen := map[string]bool{}
	for i, p := range a.Promises {
		f := fmt.Sprintf("promises[%d]", i)
		if _, ok := MaterialKinds[p.Kind]; !ok {
			is.Add(f+".kind", CodeMaterialKind, "未知的材料类型“%s”", Clip(p.Kind))
		} else if a.HasMaterial(p.Kind) || seen[p.Kind] {
			is.Add(f+".kind", CodeNotAllowed, "%s已提交或已承诺，不能再承诺", MaterialKinds[p.Kind])
		}
		seen[p.Kind] = true
		switch {
		case p.DueOn.IsZero():
			is.Add(f+".dueOn", CodeRequired, "缺少承诺补交日期")
		case p.DueOn.Before(today.Time):
			is.Add(f+".dueOn", CodePromiseDue, "承诺补交日期 %s 已过，不能早于今天 %s", p.DueOn, today)
		}
	}
	text(is, "reviewRequest", a.ReviewRequest, false, MaxTextRunes)
}

func (is *Issues) validateParties(field string, ps []Party, today Date) {
	if len(ps) > MaxParties {
		is.Add(field, CodeTooMany, "最多 %d 人", MaxParties)
		return
	}
	for i, p := range ps {
		is.validateParty(fmt.Sprintf("%s[%d]", field, i), p, today)
	}
}

func (is *Issues) validateParty(field string, p Party, today Date) {
	text(is, field+".name", p.Name, true, 100)
	switch p.IDType {
	case "":
		is.Add(field+".idType", CodeRequired, "缺少证件种类")
	case IDResident:
		// An old 15-digit number passes here; the register check decides
		// whether it is the owner's (a near match for staff).
		if p.IDNumber != "" && !IsOldResidentID(p.IDNumber) {
			switch CheckResidentID(p.IDNumber, today.Time) {
			case CodeIDFormat:
				is.Add(field+".idNumber", CodeIDFormat, "居民身份证号码应为 18 位（前 17 位数字，末位数字或 X）")
			case CodeIDCheckDigit:
				is.Add(field+".idNumber", CodeIDCheckDigit, "居民身份证号码校验码错误")
			case CodeIDBirthDate:
				is.Add(field+".idNumber", CodeIDBirthDate, "居民身份证号码中的出生日期无效")
			}
		}
	case IDCreditCode:
		if p.IDNumber != "" {
			switch CheckCreditCode(p.IDNumber) {
			case CodeCreditFormat:
				is.Add(field+".idNumber", CodeCreditFormat, "统一社会信用代码应为 18 位，且不含 I、O、Z、S、V")
			case CodeCreditCheck:
				is.Add(field+".idNumber", CodeCreditCheck, "统一社会信用代码校验码错误")
			}
		}
	case IDHKMOTW, IDPassport, IDHousehold, IDMilitary, IDOrgCode, IDOther:
		text(is, field+".idNumber", p.IDNumber, false, 40)
	default:
		is.Add(field+".idType", CodeIDTypeUnknown, "未知的证件种类“%s”，可选 1–7 或 99", Clip(p.IDType))
	}
	if p.IDNumber == "" {
		is.Add(field+".idNumber", CodeRequired, "缺少证件号码")
	}
}

// text checks a free-text field for presence and length.
func text(is *Issues, field, s string, required bool, max int) {
	if strings.TrimSpace(s) == "" {
		if required {
			is.Add(field, CodeRequired, "必填")
		}
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		is.Add(field, CodeTooLong, "不能超过 %d 个字符（现为 %d 个）", max, n)
	}
}
