package console

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"mortgaged/sync/outbox"
)

type deadLettersData struct {
	Partner  string
	Partners []option
	Items    []outbox.DeadLetter
}

// deadLetters lists the events the push gave up on (PROMISES D3).
func (c *Console) deadLetters(w http.ResponseWriter, r *http.Request, s *session) error {
	d := deadLettersData{Partner: r.URL.Query().Get("partner")}
	var err error
	if d.Items, err = c.letters.List(r.Context(), d.Partner, 500); err != nil {
		return err
	}
	if d.Partners, err = c.partnerOptions(r); err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "deadletters.html", view{Title: "推送失败", Nav: "dead", S: s, Data: d})
	return nil
}

// redeliver puts a dead letter back in its partner's queue.
func (c *Console) redeliver(w http.ResponseWriter, r *http.Request, s *session) error {
	id := mux.Vars(r)["id"]
	err := c.letters.Redeliver(r.Context(), id, actor(s), c.now())
	switch {
	case errors.Is(err, outbox.ErrNotFound):
		c.setFlash(w, r, "error", "没有事件 "+id+"。")
	case errors.Is(err, outbox.ErrNotDead):
		c.setFlash(w, r, "error", "事件 "+id+" 已不是推送失败状态，未重复推送。")
	case err != nil:
		return err
	default:
		c.setFlash(w, r, "ok", "事件 "+id+" 已重新排队，将在该机构下次推送时送达。")
	}
	http.Redirect(w, r, "/console/dead-letters", http.StatusSeeOther)
	return nil
}
