package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"mortgaged/mortgage"
)

// ruleInfo says in Chinese what a routing rule does.
type ruleInfo struct {
	Label, Description string
}

var ruleInfos = map[string]ruleInfo{
	"promised_document": {"容缺受理", "申请人承诺限期补交规定范围内的材料时，先行受理、转人工审核；登记必需的材料补交前不能核准。allowed：可容缺的材料类型，只能在配置 MORTGAGED_PROMISABLE 所列范围内选择（默认营业执照、身份证明）；maxWorkingDays：最长补交期限（工作日，周六不计）。"},
	"name_near_match":   {"姓名近似", "抵押人姓名与登记簿仅全角/半角、空格或繁简体不同时，转人工审核而非直接不予登记。"},
	"old_id_number":     {"15 位旧身份证", "抵押人使用 15 位旧身份证号码、登记簿记载 18 位号码时，转人工审核。"},
	"amount_review":     {"大额复核", "被担保主债权数额或最高债权额超过 aboveFen（分）时，转人工审核。"},
	"partner_requested": {"机构申请人工审核", "合作机构在申请中要求人工审核时，转人工审核。"},
}

type ruleRow struct {
	mortgage.RoutingRuleRow
	Info   ruleInfo
	Pretty string
}

// rules lists the routing rules; supervisors may switch and edit them.
func (c *Console) rules(w http.ResponseWriter, r *http.Request, s *session) error {
	stored, err := c.register.RoutingRuleRows(r.Context())
	if err != nil {
		return err
	}
	rows := make([]ruleRow, len(stored))
	for i, st := range stored {
		rows[i].RoutingRuleRow = st
		rows[i].Info = ruleInfos[st.Kind]
		if rows[i].Info.Label == "" {
			rows[i].Info.Label = st.Kind
		}
		var buf bytes.Buffer
		if json.Indent(&buf, st.Params, "", "  ") == nil {
			rows[i].Pretty = buf.String()
		} else {
			rows[i].Pretty = string(st.Params)
		}
	}
	c.render(w, r, http.StatusOK, "rules.html", view{Title: "转办规则", Nav: "rules", S: s, Data: rows})
	return nil
}

// updateRule switches a rule on or off and sets its parameters; the
// domain checks them, keeps the before and after in the audit trail and
// makes the desk use them at once.
func (c *Console) updateRule(w http.ResponseWriter, r *http.Request, s *session) error {
	kind := mux.Vars(r)["kind"]
	enabled := r.PostForm.Get("enabled") == "on"
	err := c.register.UpdateRoutingRule(r.Context(), kind, enabled, []byte(r.PostForm.Get("params")), s.Officer().domain())
	var ve *mortgage.ValidationError
	switch {
	case errors.As(err, &ve):
		msgs := make([]string, len(ve.Issues))
		for i, is := range ve.Issues {
			msgs[i] = is.Field + "：" + is.Message
		}
		c.setFlash(w, r, "error", "规则“"+kind+"”未保存："+strings.Join(msgs, "；")+"。")
		http.Redirect(w, r, "/console/rules", http.StatusSeeOther)
		return nil
	case errors.Is(err, mortgage.ErrNotFound):
		return notFound("转办规则")
	case err != nil:
		return err
	}
	state := "已停用"
	if enabled {
		state = "已启用"
	}
	return c.done(w, r, "规则“"+ruleInfos[kind].Label+"”已保存（"+state+"）。", "/console/rules")
}
