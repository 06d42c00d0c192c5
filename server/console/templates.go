package console

import (
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	"time"

	"mortgaged/mortgage"
)

// parseTemplates pairs every page with the shared layout.
func (c *Console) parseTemplates() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	c.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(c.funcs()).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("console template %s: %w", base, err)
		}
		c.pages[base] = t
	}
	return nil
}

func (c *Console) funcs() template.FuncMap {
	loc := c.cfg.Location
	return template.FuncMap{
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("2006-01-02 15:04")
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("2006-01-02")
		},
		"remaining": func(deadline, now time.Time) string { return remaining(deadline, now) },
		"urgency":   func(deadline, now time.Time) string { return urgency(deadline, now) },
		"yuan":      func(fen int64) string { return mortgage.FormatYuan(fen) },
		"pct":       func(p float64) string { return fmt.Sprintf("%.1f%%", p) },
		"idType":    mortgage.IDTypeLabel,
		"material": func(kind string) string {
			if l, ok := mortgage.MaterialKinds[kind]; ok {
				return l
			}
			return kind
		},
		"collateral": func(code string) string {
			if l, ok := mortgage.CollateralKinds[code]; ok {
				return l
			}
			return code
		},
		"typeLabel":   func(t string) string { return mortgage.Type(t).Label() },
		"statusLabel": statusLabel,
		"reasonLabel": func(code any, message string) string { return reasonLabel(fmt.Sprint(code), message) }, // a string or a mortgage.Code
		"useLabel":    useLabel,
		"formLabel":   ownershipLabel,
		"actionLabel": actionLabel,
		"roleLabel":   func(r Role) string { return r.Label() },
		"bytes":       humanBytes,
		"isPDF":       func(mt string) bool { return mt == "application/pdf" },
		"isImage":     func(mt string) bool { return mt == "image/jpeg" || mt == "image/png" },
		"yesno": func(b *bool) string {
			switch {
			case b == nil:
				return "未填写"
			case *b:
				return "有"
			}
			return "无"
		},
		"clock": func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) },
		"add":   func(a, b int) int { return a + b },
		"lines": func(s string) int { return min(strings.Count(s, "\n")+2, 16) },
		"scale": func(pct float64, width int) float64 { return pct * float64(width) / 100 },
		"hasCode": func(codes []string, code string) bool {
			for _, c := range codes {
				if c == code {
					return true
				}
			}
			return false
		},
	}
}

// remaining says how long until the deadline, in the desk's words.
func remaining(deadline, now time.Time) string {
	if deadline.IsZero() {
		return "无期限"
	}
	d := deadline.Sub(now)
	word := "剩余"
	if d < 0 {
		word, d = "已超时", -d
	}
	d = d.Truncate(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%s %d 天 %d 小时", word, days, hours)
	case hours > 0:
		return fmt.Sprintf("%s %d 小时 %d 分", word, hours, mins)
	}
	return fmt.Sprintf("%s %d 分", word, mins)
}

// urgency is a CSS class for the time left: overdue, soon (< 1 h) or ok.
func urgency(deadline, now time.Time) string {
	switch {
	case deadline.IsZero():
		return "ok"
	case !now.Before(deadline):
		return "overdue"
	case deadline.Sub(now) < time.Hour:
		return "soon"
	}
	return "ok"
}

func statusLabel(s string) string {
	switch s {
	case "desk":
		return "待人工审核"
	case "registered":
		return "已登簿"
	case "rejected":
		return "不予登记"
	case "withdrawn":
		return "已撤回"
	}
	return s
}

func useLabel(u string) string {
	switch u {
	case "residential":
		return "住宅"
	case "garage":
		return "车库"
	case "parking":
		return "车位"
	case "storeroom":
		return "储藏室"
	case "commercial":
		return "商业"
	case "office":
		return "办公"
	case "industrial":
		return "工业"
	case "land":
		return "土地"
	}
	return "其他"
}

func ownershipLabel(f string) string {
	switch f {
	case "sole":
		return "单独所有"
	case "joint":
		return "共同共有"
	case "shares":
		return "按份共有"
	}
	return f
}

// actionLabel names an audit action in Chinese.
func actionLabel(a string) string {
	switch a {
	case "bundle.registered":
		return "登簿"
	case "bundle.rejected":
		return "不予登记"
	case "bundle.desk":
		return "转人工审核"
	case "bundle.withdrawn":
		return "合作机构撤回"
	case "desk.approved":
		return "人工审核：核准登簿"
	case "desk.rejected":
		return "人工审核：不予登记"
	case "desk.withdrawn":
		return "合作机构撤回"
	case "desk.reassigned":
		return "改派承办人"
	case "desk.material_supplied":
		return "补交材料"
	case "staff.signin":
		return "登录"
	case "staff.signout":
		return "退出"
	case "staff.add":
		return "新增工作人员"
	case "staff.disable":
		return "停用工作人员"
	case "calendar.load":
		return "载入节假日安排"
	case "routing_rule.update":
		return "修改转办规则"
	case "event.redeliver":
		return "重新推送"
	}
	return a
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
