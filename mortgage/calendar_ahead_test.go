package mortgage_test

import (
	"testing"
	"time"
)

// notice2027 is a test notice for 2027 with the seven statutory festivals
// (one day each: the tests need the names, not the real arrangement).
const notice2027 = `{"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知", "holidays": [{"from": "2027-01-01", "to": "2027-01-01", "name": "元旦"}, {"from": "2027-02-06", "to": "2027-02-06", "name": "春节"}, {"from": "2027-04-05", "to": "2027-04-05", "name": "清明节"}, {"from": "2027-05-01", "to": "2027-05-01", "name": "劳动节"}, {"from": "2027-06-09", "to": "2027-06-09", "name": "端午节"}, {"from": "2027-09-15", "to": "2027-09-15", "name": "中秋节"}, {"from": "2027-10-01", "to": "2027-10-01", "name": "国庆节"}], "workdays": []}`

// TestCalendarYearMissing: from 1 December in business time, on the
// service's clock, next year's notice is missing until it is loaded.
func TestCalendarYearMissing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, x := range []struct {
		now  time.Time
		want int
	}{
		{time.Date(2026, 11, 30, 23, 59, 0, 0, shanghai), 0},
		{time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), 2027}, // 00:00 on 12-01 in Shanghai
		{time.Date(2026, 12, 31, 12, 0, 0, 0, shanghai), 2027},
	} {
		e.now = x.now
		if got, err := e.svc.CalendarYearMissing(t.Context()); err != nil || got != x.want {
			t.Errorf("at %s: missing %d, %v; want %d", x.now, got, err, x.want)
		}
	}
	if _, _, err := e.svc.LoadCalendarYear(t.Context(), []byte(notice2027), supervisor); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.CalendarYearMissing(t.Context()); err != nil || got != 0 {
		t.Errorf("after loading 2027: missing %d, %v", got, err)
	}
}
