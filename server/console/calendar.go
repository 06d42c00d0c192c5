package console

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"mortgaged/mortgage"
	"mortgaged/mortgage/calendar"
)

// calendarYear is one loaded year's notice.
type calendarYear struct {
	Year     int
	Shipped  bool // comes with the binary
	LoadedBy string
	LoadedAt time.Time
	Notice   calendar.Year
}

type calendarData struct {
	Years        []calendarYear
	Settings     calendar.Settings
	ShowSettings bool
	Example      string
}

// calendarPage lists the loaded years with their holidays and make-up
// working days, and lets a supervisor load another year's notice.
func (c *Console) calendarPage(w http.ResponseWriter, r *http.Request, s *session) error {
	cal, err := calendar.New(c.calendar)
	if err != nil {
		return err
	}
	d := calendarData{Settings: c.cfg.Calendar, ShowSettings: c.cfg.Calendar.Close != 0, Example: calendarExample}
	byYear := map[int]*calendarYear{}
	for _, y := range cal.Years() {
		byYear[y] = &calendarYear{Year: y, Shipped: true}
	}
	rows, err := c.register.CalendarYears(r.Context())
	if err != nil {
		return err
	}
	for _, row := range rows {
		y := byYear[row.Year]
		if y == nil {
			y = &calendarYear{Year: row.Year}
			byYear[row.Year] = y
		}
		y.LoadedBy, y.LoadedAt, y.Notice = row.LoadedBy, row.LoadedAt, row.Notice
	}
	for _, y := range byYear {
		if y.LoadedBy == "" { // shipped and not replaced: read the days back from the calendar
			y.Notice = deriveYear(cal, y.Year)
		}
		d.Years = append(d.Years, *y)
	}
	sort.Slice(d.Years, func(i, j int) bool { return d.Years[i].Year > d.Years[j].Year })
	c.render(w, r, http.StatusOK, "calendar.html", view{Title: "节假日安排", Nav: "calendar", S: s, Data: d})
	return nil
}

// deriveYear reads a loaded year back from the calendar: weekdays off are
// holidays (runs extended over the weekends they touch), worked weekend
// days are make-up working days. The notice's names are not kept by the
// calendar, so runs are named generically.
func deriveYear(cal *calendar.Calendar, year int) calendar.Year {
	y := calendar.Year{Year: year, Source: "随程序发布"}
	first := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	var run []time.Time // consecutive days off that include a weekday
	flush := func() {
		hasWeekday := false
		for _, d := range run {
			hasWeekday = hasWeekday || !isWeekend(d)
		}
		if hasWeekday {
			y.Holidays = append(y.Holidays, calendar.Holiday{From: run[0].Format(time.DateOnly), To: run[len(run)-1].Format(time.DateOnly), Name: "法定节假日"})
		}
		run = run[:0]
	}
	for d := first; d.Year() == year; d = d.AddDate(0, 0, 1) {
		working, err := cal.IsWorkingDay(d)
		if err != nil {
			break
		}
		if working {
			if isWeekend(d) {
				y.Workdays = append(y.Workdays, calendar.Workday{Date: d.Format(time.DateOnly), Name: "调休上班"})
			}
			flush()
			continue
		}
		run = append(run, d)
	}
	flush()
	return y
}

func isWeekend(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }

// loadCalendar hands a year's notice, pasted or uploaded, to the domain,
// which checks it with the calendar package and stores it.
func (c *Console) loadCalendar(w http.ResponseWriter, r *http.Request, s *session) error {
	notice := []byte(strings.TrimSpace(r.PostForm.Get("notice")))
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				return badRequest("上传的文件无法读取。")
			}
			notice, err = io.ReadAll(io.LimitReader(f, maxUploadBytes))
			f.Close()
			if err != nil {
				return badRequest("上传的文件无法读取。")
			}
		}
	}
	y, replaced, err := c.register.LoadCalendarYear(r.Context(), notice, s.Officer().domain())
	var ve *mortgage.ValidationError
	if errors.As(err, &ve) {
		c.setFlash(w, r, "error", joinMessages(ve.Issues)+"。未载入。")
		http.Redirect(w, r, "/console/calendar", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("已载入 %d 年节假日安排（%d 个假期，%d 个调休上班日）。", y.Year, len(y.Holidays), len(y.Workdays))
	if replaced {
		msg = fmt.Sprintf("已替换 %d 年节假日安排（%d 个假期，%d 个调休上班日）。", y.Year, len(y.Holidays), len(y.Workdays))
	}
	return c.done(w, r, msg, "/console/calendar")
}

// calendarExample shows the shape of a notice on the page.
const calendarExample = `{
  "year": 2027,
  "source": "国务院办公厅关于2027年部分节假日安排的通知",
  "holidays": [
    {"from": "2027-01-01", "to": "2027-01-01", "name": "元旦"},
    {"from": "2027-02-06", "to": "2027-02-12", "name": "春节"},
    …
    {"from": "2027-10-01", "to": "2027-10-07", "name": "国庆节"}
  ],
  "workdays": [
    {"date": "2027-02-07", "name": "春节调休上班"}
  ]
}`
