package console

import (
	"net/http"
	"time"

	"mortgaged/mortgage"
)

type promisesData struct {
	Show      string // open or fulfilled
	Items     []mortgage.PromiseItem
	Overdue   int
	Open      int
	Today     time.Time
	FollowUp  string
	ShowAlert bool
}

// promises shows what is owed and by when; supervisors get the overdue
// ones called out with the follow-up the centre has set.
func (c *Console) promises(w http.ResponseWriter, r *http.Request, s *session) error {
	d := promisesData{Show: r.URL.Query().Get("show"), FollowUp: c.cfg.PromiseFollowUp}
	if d.Show != "fulfilled" {
		d.Show = "open"
	}
	d.Today = c.today()
	l, err := c.register.Promises(r.Context(), d.Today, d.Show == "fulfilled")
	if err != nil {
		return err
	}
	d.Items, d.Open, d.Overdue = l.Items, l.Open, l.Overdue
	d.ShowAlert = d.Overdue > 0 && (s.Role.CanSupervise() || s.Role == RoleAuditor)
	c.render(w, r, http.StatusOK, "promises.html", view{Title: "容缺承诺", Nav: "promises", S: s, Data: d})
	return nil
}

// today is the business date, as a date at midnight UTC (how the register
// stores dates).
func (c *Console) today() time.Time {
	now := c.now().In(c.cfg.Location)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
}
