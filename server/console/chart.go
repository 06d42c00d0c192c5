package console

import (
	"time"
	"unicode/utf8"

	"mortgaged/mortgage"
)

// Charts are inline SVG laid out here and drawn by the templates: no
// script, nothing fetched, and they print.

// bar is one horizontal bar; Parts, when set, split it into stacked segments.
type bar struct {
	Label string
	Value int
	Parts []int
}

type chart struct {
	Width, Height int
	LabelX        int // right edge of the labels
	Rows          []chartRow
	Cols          []chartCol
	Legend        []legendItem
	AxisY         int
}

type chartRow struct {
	Label, Short string
	Value        int
	Y, TextY     int
	ValueX       int
	Segs         []seg
}

type seg struct {
	X, Y, W, H int
	Class      string
}

type chartCol struct {
	Label       string // shown under some columns
	Title       string
	X, LabelX   int
	Received    seg
	Registered  seg
	ShowLabel   bool
	Value, Regd int
}

type legendItem struct {
	X     int
	Class string
	Label string
}

const (
	dayChartWidth = 1240
	chartWidth    = 640
	labelWidth    = 200
	barArea       = 370
	rowHeight     = 26
	barHeight     = 16
	legendSpace   = 24
)

// hbarChart lays out labelled horizontal bars scaled to the largest value.
func hbarChart(bars []bar, parts []string) chart {
	ch := chart{Width: chartWidth, LabelX: labelWidth - 8}
	top := 4
	if len(parts) > 0 {
		x := labelWidth
		for i, p := range parts {
			ch.Legend = append(ch.Legend, legendItem{X: x, Class: segClass(i), Label: p})
			x += 24 + 14*utf8.RuneCountInString(p) + 16
		}
		top += legendSpace
	}
	most := 0
	for _, b := range bars {
		most = max(most, b.Value)
	}
	for i, b := range bars {
		y := top + i*rowHeight
		row := chartRow{Label: b.Label, Short: shorten(b.Label, 13), Value: b.Value, Y: y, TextY: y + barHeight - 3}
		x := labelWidth
		values := b.Parts
		if len(values) == 0 {
			values = []int{b.Value}
		}
		for j, v := range values {
			w := 0
			if most > 0 {
				w = v * barArea / most
			}
			if v > 0 && w < 2 {
				w = 2
			}
			class := segClass(j)
			if len(b.Parts) == 0 {
				class = "bar-plain"
			}
			row.Segs = append(row.Segs, seg{X: x, Y: y, W: w, H: barHeight, Class: class})
			x += w
		}
		row.ValueX = x + 6
		ch.Rows = append(ch.Rows, row)
	}
	ch.Height = top + len(bars)*rowHeight + 4
	return ch
}

func segClass(i int) string {
	return [...]string{"bar-ok", "bar-refused", "bar-desk", "bar-plain"}[min(i, 3)]
}

// dayChart lays out one column a day: received, with registered inside it.
func dayChart(days []mortgage.DayCount, from, to time.Time) chart {
	n := int(to.Sub(from).Hours()/24+0.5) + 1
	byDay := map[string]mortgage.DayCount{}
	most := 0
	for _, d := range days {
		byDay[d.Day.Format(time.DateOnly)] = d
		most = max(most, d.Received)
	}
	const height, plotTop, plotH, left = 200, 28, 140, 8
	colW := max(3, (dayChartWidth-2*left)/max(n, 1))
	ch := chart{Width: max(dayChartWidth, left*2+colW*n), Height: height, AxisY: plotTop + plotH,
		Legend: []legendItem{{X: left, Class: "bar-plain", Label: "收件"}, {X: left + 80, Class: "bar-ok", Label: "已登簿"}}}
	every := max(1, (n+9)/10) // at most about ten date labels
	for i := 0; i < n; i++ {
		day := from.AddDate(0, 0, i)
		dc := byDay[day.Format(time.DateOnly)]
		x := left + i*colW
		h := func(v int) int {
			if most == 0 {
				return 0
			}
			return v * plotH / most
		}
		col := chartCol{Title: day.Format("01-02"), X: x, LabelX: x + colW/2, Value: dc.Received, Regd: dc.Registered,
			Label: day.Format("01-02"), ShowLabel: i%every == 0 || i == n-1}
		col.Received = seg{X: x + 1, Y: plotTop + plotH - h(dc.Received), W: colW - 2, H: h(dc.Received), Class: "bar-plain"}
		col.Registered = seg{X: x + 1, Y: plotTop + plotH - h(dc.Registered), W: colW - 2, H: h(dc.Registered), Class: "bar-ok"}
		ch.Cols = append(ch.Cols, col)
	}
	return ch
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
