package console

import (
	"context"
	"errors"
	"sort"
	"strings"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
)

// Officer is the member of staff acting at the desk, as the register and
// the audit trail record them.
type Officer struct {
	Username    string // bundles.decided_by; audit_log.actor is "staff:" + Username
	DisplayName string // 登簿人 on an approved registration
	Role        Role
}

// Desk decides the bundles that wait for staff. The console checks the
// session, the CSRF token and the officer's role before it calls a method;
// an implementation checks the bundle's state (a bundle decided by someone
// else is an error, never a second decision) and writes its change, its
// audit_log row (actor "staff:<username>") and the partner's event in one
// transaction.
//
// A *fault.Error that is not internal (its Detail is for the officer), or one of
// the mortgage package's desk errors, is shown to them in Chinese; any other
// error is logged and shown as a system error.
type Desk interface {
	// Approve registers the bundle through the normal registration path,
	// under the officer's name.
	Approve(ctx context.Context, bundleID string, officer Officer) error
	// Refuse rejects the bundle with reason codes (from Config.RefusalReasons)
	// and the officer's note.
	Refuse(ctx context.Context, bundleID string, officer Officer, codes []string, note string) error
	// Reassign hands the bundle to another reviewer or supervisor.
	Reassign(ctx context.Context, bundleID, toUsername string, by Officer) error
}

// publicMessage is what the officer is told about err, and whether it is
// something they can act on (false: a system error, which is logged).
func publicMessage(err error) (string, bool) {
	var ve *mortgage.ValidationError
	var be *mortgage.ApprovalBlockedError
	var pe *mortgage.PromiseOpenError
	switch {
	case errors.As(err, &pe):
		return "承诺补交的材料尚未补交，暂不能核准：" + joinMessages(pe.Reasons) + "。请待合作机构补交后核准；逾期未补交的，可以“承诺的材料未按期补交”不予登记。", true
	case errors.As(err, &be):
		return "登记簿情况已变化，不能核准：" + joinMessages(be.Reasons) + "。请核实后改为不予登记。", true
	case errors.As(err, &ve):
		return "未通过校验：" + joinMessages(ve.Issues) + "。", true
	case errors.Is(err, mortgage.ErrNotAtDesk):
		return "该业务已不在待审核状态（可能已由他人处理或被合作机构撤回），未作任何更改。", true
	case errors.Is(err, mortgage.ErrForbidden):
		return "您的角色无权执行此操作，操作未执行。", true
	case errors.Is(err, mortgage.ErrNotFound):
		return "没有这笔业务。", true
	case errors.Is(err, mortgage.ErrInvalidInput):
		return "输入有误，操作未执行。", true
	}
	// The console's own refusals say what the officer reads.
	if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal && fe.Kind != fault.Unavailable && fe.Detail != "" {
		return fe.Detail, true
	}
	return "系统错误，操作未完成，已记录日志。请稍后重试或联系系统管理员。", false
}

func joinMessages(is mortgage.Issues) string {
	msgs := make([]string, len(is))
	for i, x := range is {
		msgs[i] = x.Message
	}
	return strings.Join(msgs, "；")
}

// Reason is a refusal reason an officer may choose.
type Reason struct {
	Code  string // stable, sent to the partner
	Label string // Chinese, sent to the partner as the message
}

// DefaultRefusalReasons are the domain's refusal reasons
// (mortgage.RefusalReasons) by code, "other" last.
func DefaultRefusalReasons() []Reason {
	var rs []Reason
	for code, label := range mortgage.RefusalReasons {
		rs = append(rs, Reason{Code: string(code), Label: label})
	}
	sort.Slice(rs, func(i, j int) bool {
		if (rs[i].Code == "other") != (rs[j].Code == "other") {
			return rs[j].Code == "other"
		}
		return rs[i].Code < rs[j].Code
	})
	return rs
}

// reasonLabels name the codes that send a bundle to the desk in a few
// words; the stored message says the rest.
var reasonLabels = map[string]string{
	string(mortgage.DeskPromisedDocument): "容缺受理",
	string(mortgage.DeskNameNearMatch):    "姓名近似",
	string(mortgage.DeskOldIDNumber):      "15 位旧身份证号",
	string(mortgage.DeskAmountReview):     "大额复核",
	string(mortgage.DeskPartnerRequested): "机构申请人工审核",

	string(mortgage.CodeUnitNotFound):          "不动产单元不存在",
	string(mortgage.CodeTitleMismatch):         "权属证书号不符",
	string(mortgage.CodeUnitNotMortgageable):   "不得抵押的不动产",
	string(mortgage.CodeUnitSeized):            "不动产已被查封",
	string(mortgage.CodeUnitObjection):         "存在异议登记",
	string(mortgage.CodePreregistrationOther):  "预告登记权利人不同",
	string(mortgage.CodeMortgagorNotOwner):     "抵押人非登记权利人",
	string(mortgage.CodeMortgagorNameMismatch): "抵押人姓名不符",
	string(mortgage.CodeCoOwnerMissing):        "共有人未全部参与抵押",
	string(mortgage.CodeSharesInsufficient):    "按份共有份额不足",
	string(mortgage.CodeCoOwnerNoticeMissing):  "未书面通知其他共有人",
	string(mortgage.CodeMortgageNotFound):      "抵押权不存在",
	string(mortgage.CodeMortgageNotCurrent):    "抵押权已注销",
	string(mortgage.CodeCancelUnitMismatch):    "注销单元不符",
}

// reasonLabel names a code in Chinese, falling back to the stored message.
func reasonLabel(code, message string) string {
	if l, ok := reasonLabels[code]; ok {
		return l
	}
	if l, ok := mortgage.RefusalReasons[mortgage.Code(code)]; ok {
		return l
	}
	if message != "" {
		return message
	}
	return code
}

// MortgageDesk is the Desk of the mortgage package: approval registers
// through the same checks and registration as automatic registration
// (mortgage right and rank, signed certificate, fee, partner event), under
// the officer's name.
type MortgageDesk struct{ Service *mortgage.Service }

func (o Officer) domain() mortgage.Officer {
	return mortgage.Officer{Username: o.Username, DisplayName: o.DisplayName, Role: string(o.Role)}
}

// Approve registers the bundle.
func (d MortgageDesk) Approve(ctx context.Context, bundleID string, o Officer) error {
	_, err := d.Service.Approve(ctx, bundleID, o.domain())
	return err
}

// Refuse rejects the bundle with the chosen reasons and note.
func (d MortgageDesk) Refuse(ctx context.Context, bundleID string, o Officer, codes []string, note string) error {
	cs := make([]mortgage.Code, len(codes))
	for i, c := range codes {
		cs[i] = mortgage.Code(c)
	}
	_, err := d.Service.Refuse(ctx, bundleID, o.domain(), cs, note)
	return err
}

// Reassign hands the bundle to another reviewer or supervisor.
func (d MortgageDesk) Reassign(ctx context.Context, bundleID, to string, by Officer) error {
	return d.Service.Reassign(ctx, bundleID, to, by.domain())
}
