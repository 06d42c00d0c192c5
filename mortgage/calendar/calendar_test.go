package calendar

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var shanghai = time.FixedZone("CST", 8*3600)

func newCalendar(t *testing.T, saturday bool) *Calendar {
	t.Helper()
	c, err := New(Settings{Location: shanghai, SaturdayService: saturday, CutOff: 16 * time.Hour, Close: 17*time.Hour + 30*time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func date(s string) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, s, shanghai)
	if err != nil {
		panic(err)
	}
	return d
}

// TestWorkingDays2026 follows the State Council's 2026 holiday notice.
func TestWorkingDays2026(t *testing.T) {
	c := newCalendar(t, false)
	for day, want := range map[string]bool{
		"2026-01-01": false, // 元旦 (Thursday)
		"2026-01-02": false, // 元旦 (Friday)
		"2026-01-04": true,  // Sunday worked for 元旦
		"2026-02-13": true,  // Friday before the Spring Festival
		"2026-02-14": true,  // Saturday worked for the Spring Festival
		"2026-02-16": false, // 春节 (Monday)
		"2026-02-23": false, // 春节 (Monday, last day)
		"2026-02-24": true,  // back to work
		"2026-02-28": true,  // Saturday worked for the Spring Festival
		"2026-04-06": false, // 清明节 (Monday)
		"2026-05-05": false, // 劳动节 (Tuesday)
		"2026-05-09": true,  // Saturday worked for 劳动节
		"2026-06-19": false, // 端午节 (Friday)
		"2026-09-20": true,  // Sunday worked for 国庆节
		"2026-09-25": false, // 中秋节 (Friday)
		"2026-10-07": false, // 国庆节 (Wednesday)
		"2026-10-08": true,  // Thursday after 国庆节
		"2026-10-10": true,  // Saturday worked for 国庆节
		"2026-11-26": true,  // an ordinary Thursday
		"2026-11-28": false, // an ordinary Saturday
		"2026-11-29": false, // an ordinary Sunday
	} {
		got, err := c.IsWorkingDay(date(day))
		if err != nil || got != want {
			t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", day, got, err, want)
		}
	}
}

func TestSaturdayService(t *testing.T) {
	for _, c := range []struct {
		day      string
		saturday bool
		want     bool
	}{
		{"2026-11-28", true, true},   // an ordinary Saturday, served
		{"2026-11-28", false, false}, // not served when the setting is off
		{"2026-10-03", true, false},  // a Saturday inside 国庆节 is a holiday
		{"2026-11-29", true, false},  // Sundays are never served unless worked
		{"2026-09-20", false, true},  // a worked Sunday is served either way
	} {
		got, err := newCalendar(t, c.saturday).IsServiceDay(date(c.day))
		if err != nil || got != c.want {
			t.Errorf("IsServiceDay(%s, saturday=%v) = %v, %v; want %v", c.day, c.saturday, got, err, c.want)
		}
	}
}

func TestDeadline(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
		if err != nil {
			panic(err)
		}
		return v
	}
	for _, c := range []struct {
		name     string
		received string
		saturday bool
		want     string
	}{
		{"SameDayBeforeCutOff", "2026-11-26 10:00", false, "2026-11-26 17:30"},
		{"AfterCutOffNextDay", "2026-11-26 16:30", false, "2026-11-27 17:30"},
		{"FridayAfterCutOffToMonday", "2026-11-27 16:01", false, "2026-11-30 17:30"},
		{"FridayAfterCutOffToSaturdayService", "2026-11-27 16:01", true, "2026-11-28 17:30"},
		{"SundayToMonday", "2026-11-29 09:00", true, "2026-11-30 17:30"},
		{"BeforeSpringFestivalToWorkedSaturday", "2026-02-13 16:30", false, "2026-02-14 17:30"},
		{"InsideSpringFestival", "2026-02-18 09:00", false, "2026-02-24 17:30"},
		{"NationalDayToWorkedSaturday", "2026-10-09 16:30", false, "2026-10-10 17:30"},
		{"NewYearsEveBeforeCutOff", "2026-12-31 09:00", false, "2026-12-31 17:30"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := newCalendar(t, c.saturday).Deadline(at(c.received))
			if err != nil || !got.Equal(at(c.want)) {
				t.Errorf("Deadline(%s) = %v, %v; want %s", c.received, got, err, c.want)
			}
		})
	}
	t.Run("ErrPastLastYear", func(t *testing.T) {
		_, err := newCalendar(t, false).Deadline(at("2026-12-31 16:30"))
		if !errors.Is(err, ErrNotLoaded) {
			t.Errorf("deadline needing 2027 without its notice: %v, want ErrNotLoaded", err)
		}
	})
}

func TestLoadRejectsBadData(t *testing.T) {
	c := newCalendar(t, false)
	for name, data := range map[string]string{
		"NotJSON":          `{`,
		"UnknownField":     `{"year": 2027, "holidayz": []}`,
		"DateInOtherYear":  `{"year": 2027, "holidays": [{"from": "2026-12-31", "to": "2027-01-01", "name": "元旦"}]}`,
		"BackwardsRange":   `{"year": 2027, "holidays": [{"from": "2027-01-03", "to": "2027-01-01", "name": "元旦"}]}`,
		"WorkdayIsHoliday": `{"year": 2027, "holidays": [{"from": "2027-01-01", "to": "2027-01-03", "name": "元旦"}], "workdays": [{"date": "2027-01-02", "name": "x"}]}`,
		"WorkdayOnWeekday": `{"year": 2027, "workdays": [{"date": "2027-01-05", "name": "x"}]}`,
	} {
		if err := c.LoadJSON([]byte(data)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if got := c.Years(); len(got) != 1 || got[0] != 2026 {
		t.Errorf("years after bad loads: %v, want [2026]", got)
	}
	if err := c.LoadJSON([]byte(`{"year": 2027, "source": "test", "holidays": [{"from": "2027-01-01", "to": "2027-01-01", "name": "元旦"}]}`)); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.IsWorkingDay(date("2027-01-01")); err != nil || ok {
		t.Errorf("2027-01-01 after loading 2027: %v, %v", ok, err)
	}
}

func TestAddServiceDays(t *testing.T) {
	c := newCalendar(t, false)
	got, err := c.AddServiceDays(date("2026-09-30"), 3) // 国庆节 in between
	if err != nil || !got.Equal(date("2026-10-10")) {
		t.Errorf("3 service days after 2026-09-30: %v, %v; want 2026-10-10", got, err)
	}
}

// TestAddWorkingDays: "N 个工作日" counts working days, not the Saturdays
// the centre serves on (DOMAIN: promises).
func TestAddWorkingDays(t *testing.T) {
	t.Parallel()
	c := newCalendar(t, true) // Saturday service on: it must not count
	for _, x := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-12-21", 5, "2026-12-28"}, // not Saturday 12-26
		{"2026-09-30", 3, "2026-10-10"}, // 国庆节, then 10-08, 10-09 and the make-up Saturday 10-10
		{"2026-11-26", 0, "2026-11-26"},
	} {
		got, err := c.AddWorkingDays(date(x.from), x.n)
		if err != nil || !got.Equal(date(x.want)) {
			t.Errorf("%d working days after %s: %v, %v; want %s", x.n, x.from, got, err, x.want)
		}
	}
}

// TestMissingFestivals: a notice must arrange the seven statutory festivals
// (《全国年节及纪念日放假办法》); a holiday may name two that fall together.
func TestMissingFestivals(t *testing.T) {
	t.Parallel()
	b, err := shippedNotice()
	if err != nil {
		t.Fatal(err)
	}
	if got := MissingFestivals(b); len(got) != 0 {
		t.Errorf("shipped 2026 notice misses %v", got)
	}
	y := Year{Year: 2025, Holidays: []Holiday{{Name: "元旦"}, {Name: "春节"}, {Name: "劳动节"}, {Name: "中秋节、国庆节"}}}
	if got := strings.Join(MissingFestivals(y), ","); got != "清明节,端午节" {
		t.Errorf("missing %q, want 清明节,端午节", got)
	}
}

func shippedNotice() (Year, error) {
	var y Year
	b, err := os.ReadFile("2026.json")
	if err != nil {
		return y, err
	}
	return y, json.Unmarshal(b, &y)
}
