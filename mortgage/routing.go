package mortgage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"mortgaged/mortgage/calendar"
)

// Desk reason codes: why a bundle waits for a person instead of being
// decided by rule. Hard failures are never routed: they are refused at once.
const (
	DeskPromisedDocument Code = "promised_document" // 容缺受理: a document promised for later
	DeskNameNearMatch    Code = "name_near_match"   // a name differing only in width, spacing or a traditional character
	DeskOldIDNumber      Code = "old_id_number"     // an old 15-digit ID for an owner registered with the 18-digit one
	DeskAmountReview     Code = "amount_review"     // an amount above the review threshold
	DeskPartnerRequested Code = "partner_requested" // the bank asked for a person to look
)

// Validation codes for promises.
const (
	CodePromiseNotAllowed Code = "promise_not_allowed"
	CodePromiseDue        Code = "promise_due_date"
	// CodeNotPromisable: the document may not be promised at all here (it
	// proves the mortgage itself, or the installation does not list it).
	CodeNotPromisable Code = "document_not_promisable"
	// DeskPromiseOpen blocks approval: a promised document the
	// registration needs has not arrived yet.
	DeskPromiseOpen Code = "promised_document_open"
)

// RoutingRules are the desk rules as the centre configured them (table
// routing_rules); each can be switched off.
type RoutingRules struct {
	PromisedDocument struct {
		Enabled bool `json:"-"`
		PromisedDocumentParams
	}
	NameNearMatch    bool
	OldIDNumber      bool
	PartnerRequested bool
	AmountReview     struct {
		Enabled bool `json:"-"`
		AmountReviewParams
	}
}

// PromisedDocumentParams are the parameters of the promised_document rule.
type PromisedDocumentParams struct {
	Allowed        []string `json:"allowed"`        // material kinds that may be promised
	MaxWorkingDays int      `json:"maxWorkingDays"` // 1–30 service days to bring them
}

// AmountReviewParams are the parameters of the amount_review rule.
type AmountReviewParams struct {
	AboveFen int64 `json:"aboveFen"` // amounts above this go to staff
}

// ParseRoutingParams decodes and checks a rule's parameters, as the console
// saves them and as every node reads them: member names exactly as
// documented, none unknown or repeated, every setting present and in
// range. A typo (above_fen) is an error naming the member, never a
// threshold of 0. It returns the parameters (nil for a rule without any)
// or a *ValidationError with field paths under "params".
func ParseRoutingParams(kind string, raw []byte) (any, error) {
	var is Issues
	switch Code(kind) {
	case DeskPromisedDocument:
		var p struct {
			Allowed        *[]string `json:"allowed"`
			MaxWorkingDays *int      `json:"maxWorkingDays"`
		}
		if decodeParams(&is, raw, &p) {
			if p.Allowed == nil {
				is.Add("params.allowed", CodeRequired, "缺少 allowed（可容缺受理的材料类型数组）")
			} else {
				for i, k := range *p.Allowed {
					if _, ok := MaterialKinds[k]; !ok {
						is.Add(fmt.Sprintf("params.allowed[%d]", i), CodeMaterialKind, "allowed 中的材料类型“%s”无效", Clip(k))
					}
				}
			}
			if p.MaxWorkingDays == nil || *p.MaxWorkingDays < 1 || *p.MaxWorkingDays > 30 {
				is.Add("params.maxWorkingDays", CodeNotAllowed, "maxWorkingDays 须为 1 到 30 之间的整数")
			}
		}
		if len(is) == 0 {
			return PromisedDocumentParams{Allowed: *p.Allowed, MaxWorkingDays: *p.MaxWorkingDays}, nil
		}
	case DeskAmountReview:
		var p struct {
			AboveFen *int64 `json:"aboveFen"`
		}
		if decodeParams(&is, raw, &p) && (p.AboveFen == nil || *p.AboveFen < 1 || *p.AboveFen > MaxAmountFen) {
			is.Add("params.aboveFen", CodeNotAllowed, "aboveFen 须为 1 到 %d 之间的整数（分）", int64(MaxAmountFen))
		}
		if len(is) == 0 {
			return AmountReviewParams{AboveFen: *p.AboveFen}, nil
		}
	case DeskNameNearMatch, DeskOldIDNumber, DeskPartnerRequested:
		decodeParams(&is, raw, &struct{}{}) // no parameters: {} only
	default:
		is.Add("kind", CodeNotAllowed, "未知的转办规则“%s”", Clip(kind))
	}
	if len(is) > 0 {
		return nil, &ValidationError{Issues: is}
	}
	return nil, nil
}

// decodeParams decodes one JSON object strictly into dst (exact member
// names, no unknown or duplicate member); false when it could not.
func decodeParams(is *Issues, raw []byte, dst any) bool {
	err := jsonv2.Unmarshal(raw, dst, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return true
	}
	field := "params"
	var se *jsonv2.SemanticError
	var xe *jsontext.SyntacticError
	switch {
	case errors.As(err, &se) && se.JSONPointer != "":
		field += "." + strings.Join(slices.Collect(se.JSONPointer.Tokens()), ".")
	case errors.As(err, &xe) && xe.JSONPointer != "":
		field += "." + strings.Join(slices.Collect(xe.JSONPointer.Tokens()), ".")
	}
	switch {
	case errors.Is(err, jsonv2.ErrUnknownName):
		is.Add(field, CodeNotAllowed, "未知参数 %s（参数名须与说明完全一致，区分大小写）", Clip(strings.TrimPrefix(field, "params.")))
	case errors.Is(err, jsontext.ErrDuplicateName):
		is.Add(field, CodeNotAllowed, "参数 %s 重复", Clip(strings.TrimPrefix(field, "params.")))
	default:
		is.Add(field, CodeNotAllowed, "参数须为 JSON 对象，且各项类型正确，例如 {}")
	}
	return false
}

// loadRoutingRules reads the rules table. Parameters are decoded as
// strictly as the console saves them: a rule that does not decode is an
// error naming it, not a rule with zero settings.
func (s *Service) loadRoutingRules(ctx context.Context) (RoutingRules, error) {
	var r RoutingRules
	rows, err := s.store().RoutingRuleSettings(ctx)
	if err != nil {
		return r, fmt.Errorf("read routing rules: %w", err)
	}
	for _, row := range rows {
		switch Code(row.Kind) {
		case DeskPromisedDocument, DeskAmountReview:
			p, err := ParseRoutingParams(row.Kind, row.Params)
			var ve *ValidationError
			if errors.As(err, &ve) {
				// The centre's configuration, not the partner's input: not a 422.
				return r, fmt.Errorf("routing rule %s: %s: %s", row.Kind, ve.Issues[0].Field, ve.Issues[0].Message)
			}
			switch p := p.(type) {
			case PromisedDocumentParams:
				r.PromisedDocument.PromisedDocumentParams = p
				r.PromisedDocument.Enabled = row.Enabled
			case AmountReviewParams:
				r.AmountReview.AmountReviewParams = p
				r.AmountReview.Enabled = row.Enabled
			}
		case DeskNameNearMatch:
			r.NameNearMatch = row.Enabled
		case DeskOldIDNumber:
			r.OldIDNumber = row.Enabled
		case DeskPartnerRequested:
			r.PartnerRequested = row.Enabled
		}
	}
	return r, nil
}

// desk holds what the service needs for routing, refreshed now and then:
// rules and calendar years are edited by supervisors while nodes run.
type desk struct {
	mu       sync.Mutex
	loadedAt time.Time
	rules    RoutingRules
	cal      *calendar.Calendar
}

// deskRefresh is how stale a node's copy of the rules and calendar may be.
const deskRefresh = 10 * time.Second

// routing returns the current rules and calendar.
func (s *Service) routing(ctx context.Context) (RoutingRules, *calendar.Calendar, error) {
	s.desk.mu.Lock()
	defer s.desk.mu.Unlock()
	if s.desk.cal != nil && s.Now().Sub(s.desk.loadedAt) < deskRefresh {
		return s.desk.rules, s.desk.cal, nil
	}
	rules, err := s.loadRoutingRules(ctx)
	if err != nil {
		return rules, nil, err
	}
	cal, err := calendar.New(s.Config.Calendar)
	if err != nil {
		return rules, nil, err
	}
	years, err := s.store().CalendarNotices(ctx)
	if err != nil {
		return rules, nil, fmt.Errorf("read calendar years: %w", err)
	}
	for _, y := range years {
		if err := cal.LoadJSON(y); err != nil {
			return rules, nil, err
		}
	}
	s.desk.rules, s.desk.cal, s.desk.loadedAt = rules, cal, s.Now()
	return rules, cal, nil
}

// InvalidateRouting makes the next submission re-read rules and calendar
// (the console calls it after a supervisor's change on this node).
func (s *Service) InvalidateRouting() {
	s.desk.mu.Lock()
	s.desk.cal = nil
	s.desk.mu.Unlock()
}

// promisable is the configured list of documents that may be promised.
func (s *Service) promisable() []string {
	if s.Config.Promisable == nil {
		return DefaultPromisable
	}
	return s.Config.Promisable
}

// checkPromises validates promised documents against the configuration and
// the rules: a promise is a validation fault (nothing written) when they do
// not allow it. The due date may be the last of MaxWorkingDays working days
// (the calendar's working days, not its Saturdays of service) after today.
func checkPromises(app *Application, promisable []string, rules RoutingRules, cal *calendar.Calendar, today Date) (Issues, error) {
	var is Issues
	if len(app.Promises) == 0 {
		return nil, nil
	}
	last, err := cal.AddWorkingDays(today.Time, rules.PromisedDocument.MaxWorkingDays)
	if err != nil {
		return nil, err
	}
	latest := NewDate(last.Year(), last.Month(), last.Day())
	for i, p := range app.Promises {
		f := fmt.Sprintf("promises[%d]", i)
		switch {
		case !slices.Contains(promisable, p.Kind):
			is.Add(f+".kind", CodeNotPromisable, "%s不能容缺受理，须随申请提交（可承诺后补的材料：%s）", materialLabel(p.Kind), materialLabels(promisable))
		case !rules.PromisedDocument.Enabled:
			is.Add(f+".kind", CodePromiseNotAllowed, "本中心目前不接受容缺受理，请补齐材料后提交")
		case !slices.Contains(rules.PromisedDocument.Allowed, p.Kind):
			is.Add(f+".kind", CodePromiseNotAllowed, "%s不在可容缺受理的材料之列", materialLabel(p.Kind))
		}
		if p.DueOn.After(latest.Time) {
			is.Add(f+".dueOn", CodePromiseDue, "承诺补交日期不能晚于 %s（%d 个工作日内）", latest, rules.PromisedDocument.MaxWorkingDays)
		}
	}
	return is, nil
}

// openNeededPromises are the promised documents the registration needs
// that have not arrived (app.Materials holds what has).
func openNeededPromises(app *Application, strict StrictRules) Issues {
	var is Issues
	needed := neededMaterials(app, strict)
	for i, p := range app.Promises {
		if slices.Contains(needed, p.Kind) && !app.HasMaterial(p.Kind) {
			is.Add(fmt.Sprintf("promises[%d]", i), DeskPromiseOpen, "承诺于 %s 前补交的%s尚未补交，补交后方可登簿", p.DueOn, materialLabel(p.Kind))
		}
	}
	return is
}

func materialLabels(kinds []string) string {
	if len(kinds) == 0 {
		return "无"
	}
	labels := make([]string, len(kinds))
	for i, k := range kinds {
		labels[i] = materialLabel(k)
	}
	return strings.Join(labels, "、")
}

func materialLabel(kind string) string {
	if l, ok := MaterialKinds[kind]; ok {
		return l
	}
	return kind
}

// deskReasons are the reasons, beyond near matches found in the register
// checks, that send a valid bundle to staff.
func deskReasons(app *Application, rules RoutingRules) Issues {
	var is Issues
	for i, p := range app.Promises {
		is.Add(fmt.Sprintf("promises[%d]", i), DeskPromisedDocument, "容缺受理：申请人承诺于 %s 前补交%s", p.DueOn, materialLabel(p.Kind))
	}
	if rules.AmountReview.Enabled && app.Mortgage != nil {
		for field, fen := range map[string]int64{"mortgage.principalAmount": app.Mortgage.PrincipalFen, "mortgage.maximumAmount": app.Mortgage.MaximumFen} {
			if fen > rules.AmountReview.AboveFen {
				is.Add(field, DeskAmountReview, "金额 %s 元超过人工复核线 %s 元", FormatYuan(fen), FormatYuan(rules.AmountReview.AboveFen))
			}
		}
	}
	if rules.PartnerRequested && app.ReviewRequest != "" {
		is.Add("reviewRequest", DeskPartnerRequested, "申请机构请求人工审核：%s", Clip(app.ReviewRequest))
	}
	return is
}
