// Package calendar knows which days the registration centre serves and
// when a bundle received now is due. Working days in China are not Monday
// to Friday: each year's State Council notice lists holidays and make-up
// working days (调休), so the calendar is yearly data, and a date past the
// last loaded year is an error, never a guess.
package calendar

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"mortgaged/internal/fault"
)

//go:embed 2026.json
var shipped embed.FS

// Year is one year's holiday notice.
type Year struct {
	Year     int       `json:"year"`
	Source   string    `json:"source"` // the notice it was taken from
	Holidays []Holiday `json:"holidays"`
	Workdays []Workday `json:"workdays"` // make-up working days (调休上班)
}

// Holiday is a run of days off.
type Holiday struct {
	From string `json:"from"` // YYYY-MM-DD
	To   string `json:"to"`   // inclusive
	Name string `json:"name"`
}

// Workday is a weekend day that is worked.
type Workday struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

// CodeNotLoaded is ErrNotLoaded's code, as partners read it.
const CodeNotLoaded fault.Code = "calendar_not_loaded"

// ErrNotLoaded is returned for a date in a year whose notice is not loaded:
// the centre cannot compute a deadline, so it serves nothing that needs one
// until staff load the year (logged at error level, for them).
var ErrNotLoaded = &fault.Error{Kind: fault.Unavailable, Code: CodeNotLoaded,
	Detail: "登记中心尚未载入计算审核期限所需年度的节假日安排，请稍后重试。",
	Err:    errors.New("calendar year not loaded")}

// Settings are the centre's local service rules.
type Settings struct {
	Location        *time.Location // business time, Asia/Shanghai
	SaturdayService bool           // 周六全天办: Saturdays (not holidays) are service days
	CutOff          time.Duration  // time of day after which a bundle counts as received the next service day
	Close           time.Duration  // time of day a service day ends: the deadline
}

// Calendar answers day questions for the loaded years.
type Calendar struct {
	Settings
	years map[int]dayset
}

type dayset struct {
	holiday map[string]string // date → name
	workday map[string]string
}

// New makes a calendar with the shipped years loaded.
func New(s Settings) (*Calendar, error) {
	if s.Location == nil {
		return nil, errors.New("calendar: no business time zone")
	}
	if s.Close <= 0 || s.Close > 24*time.Hour || s.CutOff <= 0 || s.CutOff > s.Close {
		return nil, fmt.Errorf("calendar: need 0 < cut-off (%s) <= close (%s) <= 24h", s.CutOff, s.Close)
	}
	c := &Calendar{Settings: s, years: map[int]dayset{}}
	entries, _ := shipped.ReadDir(".")
	for _, e := range entries {
		b, err := shipped.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		if err := c.LoadJSON(b); err != nil {
			return nil, fmt.Errorf("shipped %s: %w", e.Name(), err)
		}
		var y Year
		if err := json.Unmarshal(b, &y); err != nil {
			return nil, fmt.Errorf("shipped %s: %w", e.Name(), err)
		}
		if missing := MissingFestivals(y); len(missing) > 0 {
			return nil, fmt.Errorf("shipped %s: no holiday for %s", e.Name(), strings.Join(missing, ", "))
		}
	}
	return c, nil
}

// LoadJSON adds (or replaces) a year from its JSON notice, after checking it.
func (c *Calendar) LoadJSON(b []byte) error {
	var y Year
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&y); err != nil {
		return fmt.Errorf("calendar JSON: %w", err)
	}
	return c.Load(y)
}

// Load adds (or replaces) a year after checking every date is in it and no
// day is both a holiday and a make-up working day.
func (c *Calendar) Load(y Year) error {
	if y.Year < 2000 || y.Year > 2100 {
		return fmt.Errorf("calendar: year %d out of range", y.Year)
	}
	ds := dayset{holiday: map[string]string{}, workday: map[string]string{}}
	inYear := func(s string) (time.Time, error) {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, fmt.Errorf("calendar %d: %q is not a YYYY-MM-DD date", y.Year, s)
		}
		if t.Year() != y.Year {
			return t, fmt.Errorf("calendar %d: %s is not in that year", y.Year, s)
		}
		return t, nil
	}
	for _, h := range y.Holidays {
		from, err := inYear(h.From)
		if err != nil {
			return err
		}
		to, err := inYear(h.To)
		if err != nil {
			return err
		}
		if to.Before(from) || to.Sub(from) > 31*24*time.Hour {
			return fmt.Errorf("calendar %d: holiday %s runs from %s to %s", y.Year, h.Name, h.From, h.To)
		}
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			ds.holiday[d.Format(time.DateOnly)] = h.Name
		}
	}
	for _, w := range y.Workdays {
		d, err := inYear(w.Date)
		if err != nil {
			return err
		}
		key := d.Format(time.DateOnly)
		if _, clash := ds.holiday[key]; clash {
			return fmt.Errorf("calendar %d: %s is both a holiday and a working day", y.Year, key)
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return fmt.Errorf("calendar %d: make-up working day %s is a weekday", y.Year, key)
		}
		ds.workday[key] = w.Name
	}
	c.years[y.Year] = ds
	return nil
}

// Festivals are the statutory festivals every year's notice arranges
// (《全国年节及纪念日放假办法》第二条): a notice without one of them is not
// the State Council's notice, or was cut short when copied.
var Festivals = []string{"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}

// MissingFestivals lists the statutory festivals that no holiday of the
// notice names, in the order of Festivals. A holiday may name several when
// they fall together (e.g. "中秋节、国庆节").
func MissingFestivals(y Year) []string {
	var missing []string
	for _, f := range Festivals {
		if !slices.ContainsFunc(y.Holidays, func(h Holiday) bool { return strings.Contains(h.Name, f) }) {
			missing = append(missing, f)
		}
	}
	return missing
}

// Years lists the loaded years.
func (c *Calendar) Years() []int {
	return slices.Sorted(maps.Keys(c.years))
}

func (c *Calendar) day(d time.Time) (dayset, string, error) {
	ds, ok := c.years[d.Year()]
	if !ok {
		return ds, "", fmt.Errorf("%w: %d (load its holiday notice)", ErrNotLoaded, d.Year())
	}
	return ds, d.Format(time.DateOnly), nil
}

// IsWorkingDay reports whether the date (y, m, d of t) is a statutory working
// day: Monday to Friday and not a holiday, or a make-up working day.
func (c *Calendar) IsWorkingDay(t time.Time) (bool, error) {
	ds, key, err := c.day(t)
	if err != nil {
		return false, err
	}
	if _, ok := ds.workday[key]; ok {
		return true, nil
	}
	if _, ok := ds.holiday[key]; ok {
		return false, nil
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday, nil
}

// IsServiceDay reports whether the centre serves on that date: every working
// day, and Saturdays that are not holidays when Saturday service is on.
func (c *Calendar) IsServiceDay(t time.Time) (bool, error) {
	working, err := c.IsWorkingDay(t)
	if err != nil || working {
		return working, err
	}
	ds, key, _ := c.day(t)
	_, holiday := ds.holiday[key]
	return c.SaturdayService && t.Weekday() == time.Saturday && !holiday, nil
}

// Deadline is when a bundle received at t must be decided: the close of the
// day it is received if that is a service day and t is before the cut-off,
// otherwise the close of the next service day.
func (c *Calendar) Deadline(received time.Time) (time.Time, error) {
	t := received.In(c.Location)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.Location)
	serves, err := c.IsServiceDay(day)
	if err != nil {
		return time.Time{}, err
	}
	if !serves || t.Sub(day) >= c.CutOff {
		if day, err = c.NextServiceDay(day); err != nil {
			return time.Time{}, err
		}
	}
	return day.Add(c.Close), nil
}

// NextServiceDay is the first service day after the date of t.
func (c *Calendar) NextServiceDay(t time.Time) (time.Time, error) {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.Location)
	for range 60 { // the longest run of closed days is far shorter
		day = day.AddDate(0, 0, 1)
		ok, err := c.IsServiceDay(day)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			return day, nil
		}
	}
	return time.Time{}, fmt.Errorf("calendar: no service day within 60 days after %s", t.Format(time.DateOnly))
}

// AddWorkingDays is the date n working days after the date of t (n ≥ 0):
// "N 个工作日" counts working days, not the Saturdays the centre serves.
// The date is midnight in the business time zone.
func (c *Calendar) AddWorkingDays(t time.Time, n int) (time.Time, error) {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.Location)
	for range n {
		for i := 0; ; i++ {
			if i == 60 { // the longest run of days off is far shorter
				return time.Time{}, fmt.Errorf("calendar: no working day within 60 days after %s", day.Format(time.DateOnly))
			}
			day = day.AddDate(0, 0, 1)
			ok, err := c.IsWorkingDay(day)
			if err != nil {
				return time.Time{}, err
			}
			if ok {
				break
			}
		}
	}
	return day, nil
}

// AddServiceDays is the date n service days after the date of t (n ≥ 0).
func (c *Calendar) AddServiceDays(t time.Time, n int) (time.Time, error) {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.Location)
	for range n {
		var err error
		if day, err = c.NextServiceDay(day); err != nil {
			return time.Time{}, err
		}
	}
	return day, nil
}
