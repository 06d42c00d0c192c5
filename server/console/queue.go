package console

import (
	"net/http"
	"strings"

	"mortgaged/mortgage"
)

type option struct{ Value, Label string }

type queueData struct {
	State, Partner, Reason, Query string
	Mine                          bool
	States                        []option
	Partners                      []option
	Reasons                       []option
	Items                         []mortgage.QueueItem
	AtDesk, Overdue, MineCount    int
	Limit                         int
}

const queueLimit = 200

var queueStates = []option{{"desk", "待人工审核"}, {"registered", "已登簿"}, {"rejected", "不予登记"}, {"withdrawn", "已撤回"}}

// queue lists the bundles at the desk by deadline, with filters.
func (c *Console) queue(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	d := queueData{State: q.Get("state"), Partner: q.Get("partner"), Reason: q.Get("reason"),
		Query: strings.TrimSpace(q.Get("q")), Mine: q.Get("mine") == "1", States: queueStates, Limit: queueLimit}
	if d.State == "" {
		d.State = "desk"
	}
	valid := false
	for _, o := range queueStates {
		valid = valid || o.Value == d.State
	}
	if !valid {
		return badRequest("状态筛选无效。")
	}
	ctx := r.Context()
	queue, err := c.register.Queue(ctx, mortgage.QueueFilter{State: d.State, Partner: d.Partner, Reason: d.Reason, Query: d.Query,
		Mine: d.Mine, Officer: s.Username, Limit: queueLimit}, c.now())
	if err != nil {
		return err
	}
	d.Items, d.AtDesk, d.Overdue, d.MineCount = queue.Items, queue.AtDesk, queue.Overdue, queue.Mine
	if d.Partners, err = c.partnerOptions(r); err != nil {
		return err
	}
	for _, rc := range queue.Reasons {
		d.Reasons = append(d.Reasons, option{rc.Code, reasonLabel(rc.Code, rc.Message)})
	}
	c.render(w, r, http.StatusOK, "queue.html", view{Title: "待办队列", Nav: "queue", S: s, Data: d})
	return nil
}

// partnerOptions are the partners for a filter, by name.
func (c *Console) partnerOptions(r *http.Request) ([]option, error) {
	ps, err := c.register.PartnerNames(r.Context())
	if err != nil {
		return nil, err
	}
	os := make([]option, len(ps))
	for i, p := range ps {
		os[i] = option{p.ID, p.Name}
	}
	return os, nil
}
