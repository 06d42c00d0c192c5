package mortgage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"

	"mortgaged/internal/db"
	"mortgaged/mortgage/calendar"
	"mortgaged/mortgage/store"
)

// The centre's settings that supervisors change in the console: routing
// rules and the holiday calendar. Each change checks its input, writes its
// audit record in the same transaction and makes this node's desk reread
// the settings (other nodes reread them within deskRefresh).

// RoutingRuleRow is a routing rule as stored, for the console's rules page.
type RoutingRuleRow struct {
	Kind      string
	Enabled   bool
	Params    []byte
	UpdatedBy string
	UpdatedAt time.Time
}

// RoutingRuleRows lists the routing rules by kind.
func (s *Service) RoutingRuleRows(ctx context.Context) ([]RoutingRuleRow, error) {
	stored, err := s.store().RoutingRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing rules: %w", err)
	}
	var rows []RoutingRuleRow
	for _, r := range stored {
		rows = append(rows, RoutingRuleRow(r))
	}
	return rows, nil
}

// UpdateRoutingRule switches a rule on or off and sets its parameters,
// checked by ParseRoutingParams (a *ValidationError when they do not
// decode) and stored as decoded; ErrNotFound for a rule that is not in
// the table. The audit record keeps the rule before and after.
func (s *Service) UpdateRoutingRule(ctx context.Context, kind string, enabled bool, params []byte, by Officer) error {
	if len(bytes.TrimSpace(params)) == 0 {
		params = []byte("{}")
	}
	p, err := ParseRoutingParams(kind, params)
	if err != nil {
		return err
	}
	if pd, ok := p.(PromisedDocumentParams); ok {
		// The rule chooses within the configured list, never beyond it.
		var is Issues
		for i, k := range pd.Allowed {
			if !slices.Contains(s.promisable(), k) {
				is.Add(fmt.Sprintf("params.allowed[%d]", i), CodeNotPromisable, "%s不能容缺受理：本中心可承诺后补的材料为 %s（由配置 MORTGAGED_PROMISABLE 决定）", materialLabel(k), materialLabels(s.promisable()))
			}
		}
		if len(is) > 0 {
			return &ValidationError{Issues: is}
		}
	}
	if p == nil {
		p = struct{}{}
	}
	compact, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("rule %s: %w", kind, err)
	}
	now := s.Now()
	err = s.store().InSettingsTx(ctx, func(tx *store.SettingsTx) error {
		before, err := tx.LockRoutingRule(ctx, kind)
		if errors.Is(err, store.ErrNoRows) {
			return fmt.Errorf("routing rule %s: %w", kind, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("rule %s: %w", kind, err)
		}
		if err := tx.UpdateRoutingRule(ctx, kind, enabled, compact, by.Username, now); err != nil {
			return fmt.Errorf("update rule %s: %w", kind, err)
		}
		return tx.Audit(ctx, db.AuditEntry{At: now, Actor: "staff:" + by.Username, Action: "routing_rule.update", Subject: "routing_rule:" + kind,
			Detail: map[string]any{
				"before": map[string]any{"enabled": before.Enabled, "params": json.RawMessage(before.Params)},
				"after":  map[string]any{"enabled": enabled, "params": json.RawMessage(compact)},
			}})
	})
	if err != nil {
		return err
	}
	s.InvalidateRouting()
	return nil
}

// CalendarYearRow is a year's holiday notice loaded by a supervisor.
type CalendarYearRow struct {
	Year     int
	Notice   calendar.Year
	LoadedBy string
	LoadedAt time.Time
}

// CalendarYears lists the loaded years' notices by year.
func (s *Service) CalendarYears(ctx context.Context) ([]CalendarYearRow, error) {
	rows, err := s.store().CalendarYears(ctx)
	if err != nil {
		return nil, fmt.Errorf("calendar years: %w", err)
	}
	out := make([]CalendarYearRow, len(rows))
	for i, r := range rows {
		out[i] = CalendarYearRow{Year: r.Year, LoadedBy: r.LoadedBy, LoadedAt: r.LoadedAt}
		if err := json.Unmarshal(r.Notice, &out[i].Notice); err != nil {
			return nil, fmt.Errorf("calendar %d: %w", r.Year, err)
		}
	}
	return out, nil
}

// LoadCalendarYear checks a year's holiday notice (the JSON shape of
// mortgage/calendar/2026.json) against the service's calendar settings and
// stores it, replacing a notice of the same year. A notice that does not
// pass is a *ValidationError whose one issue says why, in Chinese.
func (s *Service) LoadCalendarYear(ctx context.Context, notice []byte, by Officer) (y calendar.Year, replaced bool, err error) {
	invalid := func(msg string) error {
		return &ValidationError{Issues: Issues{{Field: "notice", Code: CodeNotAllowed, Message: msg}}}
	}
	if len(bytes.TrimSpace(notice)) == 0 {
		return y, false, invalid("请粘贴或上传节假日安排 JSON")
	}
	if err := strictJSON(notice); err != nil {
		return y, false, invalid("节假日安排" + err.Error())
	}
	cal, err := calendar.New(s.Config.Calendar)
	if err != nil {
		return y, false, err
	}
	if err := cal.LoadJSON(notice); err != nil {
		return y, false, invalid("节假日安排校验未通过：" + err.Error())
	}
	if err := json.Unmarshal(notice, &y); err != nil {
		return y, false, invalid("节假日安排无法解析")
	}
	// 《全国年节及纪念日放假办法》: every year's notice arranges the seven
	// statutory festivals; one missing means a wrong or truncated notice.
	if missing := calendar.MissingFestivals(y); len(missing) > 0 {
		return y, false, invalid(fmt.Sprintf("节假日安排缺少法定节日：%s。国务院办公厅每年的通知均安排这七个节日，请核对通知原文后重新载入。", strings.Join(missing, "、")))
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, notice); err != nil {
		return y, false, invalid("节假日安排无法解析")
	}
	now := s.Now()
	err = s.store().InSettingsTx(ctx, func(tx *store.SettingsTx) (err error) {
		if replaced, err = tx.CalendarYearLoaded(ctx, y.Year); err != nil {
			return err
		}
		if err := tx.PutCalendarYear(ctx, y.Year, compact.Bytes(), by.Username, now); err != nil {
			return fmt.Errorf("store calendar %d: %w", y.Year, err)
		}
		return tx.Audit(ctx, db.AuditEntry{At: now, Actor: "staff:" + by.Username, Action: "calendar.load", Subject: fmt.Sprintf("calendar:%d", y.Year),
			Detail: map[string]any{"year": y.Year, "source": y.Source, "holidays": len(y.Holidays), "workdays": len(y.Workdays), "replaced": replaced}})
	})
	if err != nil {
		return y, false, err
	}
	s.InvalidateRouting()
	return y, replaced, nil
}

// strictJSON refuses a settings document that says two things or cannot be
// stored: a member named twice in one object, however it is escaped
// ({"year": 2027, "y\u0065ar": 2031}), strings that are not UTF-8, and
// control characters such as an escaped NUL, which PostgreSQL's jsonb
// refuses. encoding/json, which the calendar reads notices with, would let
// the last of two values win unseen (PROMISES S7 holds for staff as for
// partners). Routing parameters need no such check: ParseRoutingParams
// decodes them strictly and they are stored as decoded.
func strictJSON(b []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var se *jsontext.SyntacticError
		switch {
		case errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName):
			return fmt.Errorf("JSON 中 %s 出现了两次，每个名称只能写一次", se.JSONPointer)
		case err != nil:
			return errors.New("不是合法的 JSON（须为一个 JSON 值，UTF-8 编码）")
		case tok.Kind() == '"' && strings.IndexFunc(tok.String(), func(r rune) bool {
			return unicode.Is(unicode.Cc, r) && r != '\t' && r != '\n' && r != '\r'
		}) >= 0:
			return fmt.Errorf("JSON 的 %s 处含有控制字符（如 \\u0000）", dec.StackPointer())
		}
	}
}
