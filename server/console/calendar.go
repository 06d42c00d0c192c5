package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

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
	var rows []struct {
		Year     int       `db:"year"`
		Notice   []byte    `db:"notice"`
		LoadedBy string    `db:"loaded_by"`
		LoadedAt time.Time `db:"loaded_at"`
	}
	if err := c.db.SelectContext(r.Context(), &rows, `SELECT year, notice, loaded_by, loaded_at FROM calendar_years ORDER BY year`); err != nil {
		return fmt.Errorf("calendar years: %w", err)
	}
	for _, row := range rows {
		y := byYear[row.Year]
		if y == nil {
			y = &calendarYear{Year: row.Year}
			byYear[row.Year] = y
		}
		y.LoadedBy, y.LoadedAt = row.LoadedBy, row.LoadedAt
		if err := json.Unmarshal(row.Notice, &y.Notice); err != nil {
			return fmt.Errorf("calendar %d: %w", row.Year, err)
		}
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

// loadCalendar checks a year's notice with the calendar package and stores
// it; the same JSON shape as mortgage/calendar/2026.json.
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
	fail := func(msg string) error {
		c.setFlash(w, r, "error", msg+"未载入。")
		http.Redirect(w, r, "/console/calendar", http.StatusSeeOther)
		return nil
	}
	if len(bytes.TrimSpace(notice)) == 0 {
		return fail("请粘贴或上传节假日安排 JSON。")
	}
	if err := strictJSON(notice); err != nil {
		return fail("节假日安排" + err.Error() + "。")
	}
	cal, err := calendar.New(c.calendar)
	if err != nil {
		return err
	}
	if err := cal.LoadJSON(notice); err != nil {
		return fail("节假日安排校验未通过：" + err.Error() + "。")
	}
	var y calendar.Year
	if err := json.Unmarshal(notice, &y); err != nil {
		return fail("节假日安排无法解析。")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, notice); err != nil {
		return fail("节假日安排无法解析。")
	}
	ctx := r.Context()
	now := c.now()
	var replaced bool
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM calendar_years WHERE year = $1)`, y.Year).Scan(&replaced); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_years (year, notice, loaded_by, loaded_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (year) DO UPDATE SET notice = EXCLUDED.notice, loaded_by = EXCLUDED.loaded_by, loaded_at = EXCLUDED.loaded_at`,
			y.Year, compact.Bytes(), s.Username, now); err != nil {
			return fmt.Errorf("store calendar %d: %w", y.Year, err)
		}
		return audit(ctx, tx, now, actor(s), "calendar.load", fmt.Sprintf("calendar:%d", y.Year),
			map[string]any{"year": y.Year, "source": y.Source, "holidays": len(y.Holidays), "workdays": len(y.Workdays), "replaced": replaced})
	})
	if err != nil {
		return err
	}
	c.routingChanged()
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
    {"from": "2027-01-01", "to": "2027-01-03", "name": "元旦"}
  ],
  "workdays": [
    {"date": "2027-02-07", "name": "春节调休上班"}
  ]
}`
