package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"mortgaged/sync/pushsig"
)

func TestReceiver(t *testing.T) {
	key := pushsig.NewSecret()
	rc := newReceiver(key, 1, "500")
	srv := httptest.NewServer(rc.handler("/callback"))
	defer srv.Close()
	send := func(id string, body string, k []byte) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/callback", bytes.NewReader([]byte(body)))
		pushsig.SetHeaders(req.Header, k, id, time.Now(), []byte(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	ev := `{"id":"evt_1","type":"bundle.registered","occurredAt":"2026-11-26T10:00:00+08:00","bundle":{"bundleId":"b1"}}`
	rc.submitted("b1", time.Now())
	for i, c := range []struct {
		id, body string
		key      []byte
		want     int
	}{
		{"evt_1", ev, key, 500}, // the injected failure
		{"evt_1", ev, key, 204}, // the retry
		{"evt_1", ev, key, 204}, // a duplicate: answered, not processed again
		{"evt_2", `{"id":"evt_2","type":"x"}`, pushsig.NewSecret(), 401}, // signed with another secret
		{"batch_1", `{"events":[{"id":"evt_1","type":"bundle.registered"},{"id":"evt_3","type":"bundle.rejected"}]}`, key, 204},
	} {
		if got := send(c.id, c.body, c.key); got != c.want {
			t.Errorf("request %d (%s): %d, want %d", i+1, c.id, got, c.want)
		}
	}
	r := rc.report(time.Second, 0)
	if r.Requests != 5 || r.Accepted != 2 || r.Duplicates != 2 || r.BadSignatures != 1 || r.Injected != 1 ||
		r.ByType["bundle.rejected"] != 1 || r.SinceCommit == nil || r.SinceCommit.N != 1 {
		t.Errorf("report %+v", r)
	}
}
