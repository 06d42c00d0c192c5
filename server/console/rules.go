package console

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jmoiron/sqlx"

	"mortgaged/mortgage"
)

// ruleInfo says in Chinese what a routing rule does.
type ruleInfo struct {
	Label, Description string
}

var ruleInfos = map[string]ruleInfo{
	"promised_document": {"容缺受理", "申请人承诺限期补交规定范围内的材料时，转人工审核。allowed：可容缺的材料类型；maxWorkingDays：最长补交期限（工作日）。"},
	"name_near_match":   {"姓名近似", "抵押人姓名与登记簿仅全角/半角、空格或繁简体不同时，转人工审核而非直接不予登记。"},
	"old_id_number":     {"15 位旧身份证", "抵押人使用 15 位旧身份证号码、登记簿记载 18 位号码时，转人工审核。"},
	"amount_review":     {"大额复核", "被担保主债权数额或最高债权额超过 aboveFen（分）时，转人工审核。"},
	"partner_requested": {"机构申请人工审核", "合作机构在申请中要求人工审核时，转人工审核。"},
}

type ruleRow struct {
	Kind      string    `db:"kind"`
	Enabled   bool      `db:"enabled"`
	Params    []byte    `db:"params"`
	UpdatedBy string    `db:"updated_by"`
	UpdatedAt time.Time `db:"updated_at"`
	Info      ruleInfo  `db:"-"`
	Pretty    string    `db:"-"`
}

// rules lists the routing rules; supervisors may switch and edit them.
func (c *Console) rules(w http.ResponseWriter, r *http.Request, s *session) error {
	var rows []ruleRow
	if err := c.db.SelectContext(r.Context(), &rows, `SELECT kind, enabled, params, updated_by, updated_at FROM routing_rules ORDER BY kind`); err != nil {
		return fmt.Errorf("routing rules: %w", err)
	}
	for i := range rows {
		rows[i].Info = ruleInfos[rows[i].Kind]
		if rows[i].Info.Label == "" {
			rows[i].Info.Label = rows[i].Kind
		}
		var buf bytes.Buffer
		if json.Indent(&buf, rows[i].Params, "", "  ") == nil {
			rows[i].Pretty = buf.String()
		} else {
			rows[i].Pretty = string(rows[i].Params)
		}
	}
	c.render(w, r, http.StatusOK, "rules.html", view{Title: "转办规则", Nav: "rules", S: s, Data: rows})
	return nil
}

// checkRuleParams checks a rule's parameters with the domain's own
// decoding (mortgage.ParseRoutingParams: exact names, nothing unknown, in
// range) and returns them as they are stored, or an error naming the member.
func checkRuleParams(kind string, raw []byte) (any, error) {
	p, err := mortgage.ParseRoutingParams(kind, raw)
	var ve *mortgage.ValidationError
	if errors.As(err, &ve) {
		msgs := make([]string, len(ve.Issues))
		for i, is := range ve.Issues {
			msgs[i] = is.Field + "：" + is.Message
		}
		return nil, errors.New(strings.Join(msgs, "；"))
	}
	if err != nil {
		return nil, err
	}
	if p == nil {
		return struct{}{}, nil
	}
	return p, nil
}

// updateRule switches a rule on or off and sets its parameters, keeping
// the before and after in the audit trail.
func (c *Console) updateRule(w http.ResponseWriter, r *http.Request, s *session) error {
	kind := mux.Vars(r)["kind"]
	enabled := r.PostForm.Get("enabled") == "on"
	raw := []byte(r.PostForm.Get("params"))
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	err := strictJSON(raw)
	var params any
	if err == nil {
		params, err = checkRuleParams(kind, raw)
	}
	if err != nil {
		c.setFlash(w, r, "error", "规则“"+kind+"”未保存："+err.Error()+"。")
		http.Redirect(w, r, "/console/rules", http.StatusSeeOther)
		return nil
	}
	compact, _ := json.Marshal(params)
	ctx := r.Context()
	now := c.now()
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		var before ruleRow
		err := tx.GetContext(ctx, &before, `SELECT kind, enabled, params, updated_by, updated_at FROM routing_rules WHERE kind = $1 FOR UPDATE`, kind)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("转办规则")
		}
		if err != nil {
			return fmt.Errorf("rule %s: %w", kind, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE routing_rules SET enabled = $2, params = $3, updated_by = $4, updated_at = $5 WHERE kind = $1`,
			kind, enabled, compact, s.Username, now); err != nil {
			return fmt.Errorf("update rule %s: %w", kind, err)
		}
		return audit(ctx, tx, now, actor(s), "routing_rule.update", "routing_rule:"+kind, map[string]any{
			"before": map[string]any{"enabled": before.Enabled, "params": json.RawMessage(before.Params)},
			"after":  map[string]any{"enabled": enabled, "params": json.RawMessage(compact)},
		})
	})
	if err != nil {
		return err
	}
	c.routingChanged()
	state := "已停用"
	if enabled {
		state = "已启用"
	}
	return c.done(w, r, "规则“"+ruleInfos[kind].Label+"”已保存（"+state+"）。", "/console/rules")
}
