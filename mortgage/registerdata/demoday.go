package registerdata

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"slices"
	"strings"
	"time"

	"mortgaged/mortgage"
)

// DemoSubmission is one application of the demo's working week: the partner
// that sends it, when, and what the centre is meant to decide.
type DemoSubmission struct {
	Partner Partner
	At      time.Time
	App     *mortgage.Application
	Want    mortgage.Status // registered, rejected or desk
	// Codes are the reasons a rejected bundle is refused with, or the desk
	// reasons of a bundle sent to staff; nil for a registration.
	Codes []mortgage.Code
}

// DemoDay is a realistic past week of the demo partners' work against the
// demo register d, ending at now (business time: now's location), so that
// the staff console has something to show:
//
//   - a few dozen first registrations and two cancellations by all three
//     partners over the past six days and today, registered at once
//     (Sundays are quiet);
//   - two refusals: a seized unit, and one joint owner applying alone;
//   - one bundle the provident fund asked staff to review, received on the
//     last day before today (Sunday skipped) before the cut-off, so it is
//     overdue today;
//   - five bundles at the desk today: a mortgagor's name written with
//     traditional characters (such as 張偉 for 张伟) on a unit that carries
//     another lender's mortgage, an owner's old 15-digit ID, a maximum
//     amount above the review line, a bank's own request for review, and
//     a mortgagor's identity document promised for later (容缺受理).
//
// Today's bundles arrive between 08:30 and a few minutes before now; before
// 09:30 they arrive overnight instead, online. The result is ordered by time.
// It uses no unit SampleBundles uses, and references numbered from 0100, so
// none clashes with a sample's.
func DemoDay(d Demo, now time.Time) []DemoSubmission {
	p := &dayPlanner{demo: d, now: now, loc: now.Location(), used: map[string]bool{}, refs: map[string]int{}}
	for _, a := range SampleBundles(d, mortgage.DateOf(now, now.Location())) {
		for _, u := range a.Units {
			p.used[u.UnitNumber] = true // a newcomer sends the samples on a fresh register
		}
	}
	p.build()
	// Built in time order, so units are taken and references numbered as
	// the bundles arrive.
	slices.SortStableFunc(p.plan, func(a, b planned) int { return a.at.Compare(b.at) })
	for _, e := range p.plan {
		e.build()
	}
	return p.out
}

// dayPlanner hands out units, references and times while DemoDay builds.
type dayPlanner struct {
	demo  Demo
	now   time.Time
	loc   *time.Location
	used  map[string]bool // unit numbers
	refs  map[string]int  // partner and day → references issued
	homes int             // first registrations so far, for amounts and terms
	plan  []planned
	out   []DemoSubmission
}

// planned is a submission to build once the week is planned.
type planned struct {
	at    time.Time
	build func()
}

// later plans a submission at a time.
func (p *dayPlanner) later(at time.Time, build func()) {
	p.plan = append(p.plan, planned{at, build})
}

// Partner roles in the demo day.
const (
	ljBank   = 0 // lj-bank, the demo bank of the samples
	hcBank   = 1 // hc-rcb
	fundCtr  = 2 // qqhr-fund: homes only
	weekDays = 6 // days before today with registrations
)

// dailyClean is how many clean first registrations arrive on each day
// back from today (index 0 is today); a Saturday gets half.
var dailyClean = [weekDays + 1]int{4, 6, 5, 7, 6, 7, 5}

// partnerCycle is who sends the next clean registration: the demo bank
// most, then the rural bank, then the fund centre.
var partnerCycle = []int{ljBank, hcBank, ljBank, fundCtr, ljBank, hcBank, fundCtr, ljBank, hcBank}

// pastSlots are times of day (minutes) for a past day's arrivals.
var pastSlots = []int{8*60 + 41, 9*60 + 17, 9*60 + 52, 10*60 + 26, 11*60 + 3, 11*60 + 38,
	13*60 + 34, 14*60 + 9, 14*60 + 47, 15*60 + 22, 15*60 + 51, 16*60 + 28}

func (p *dayPlanner) build() {
	today := p.day(0)
	next := 0
	for back := weekDays; back >= 1; back-- {
		day := p.day(back)
		if day.Weekday() == time.Sunday {
			continue
		}
		n := dailyClean[back]
		if day.Weekday() == time.Saturday {
			n /= 2
		}
		for i := range n {
			slot := pastSlots[i*len(pastSlots)/n]
			at := day.Add(time.Duration(slot+(back*3)%7)*time.Minute + time.Duration(i*13%60)*time.Second)
			partner, n := partnerCycle[next%len(partnerCycle)], next
			p.later(at, func() { p.clean(partner, at, n) })
			next++
		}
	}
	// Two cancellations of mortgages paid off, by their holders.
	at := p.pastAt(5, 10*60+12)
	p.later(at, func() { p.cancellation(ljBank, at) })
	at2 := p.pastAt(2, 14*60+31)
	p.later(at2, func() { p.cancellation(hcBank, at2) })
	// Refusals.
	at3 := p.pastAt(3, 11*60+20)
	p.later(at3, func() { p.seized(hcBank, at3) })
	yesterday := p.day(1)
	if yesterday.Weekday() == time.Sunday {
		yesterday = p.day(2)
	}
	at4 := yesterday.Add(10*time.Hour + 40*time.Minute)
	p.later(at4, func() { p.jointMissing(ljBank, at4) })
	// Received before yesterday's cut-off and not decided: overdue now.
	at5 := yesterday.Add(15*time.Hour + 10*time.Minute)
	p.later(at5, func() {
		p.review(fundCtr, at5, "公积金与商业贷款组合，请核对两份借款合同金额之和")
	})

	// Today, in the window before now.
	open, end := today.Add(8*time.Hour+30*time.Minute), p.now.Add(-3*time.Minute)
	if end.Sub(open) < time.Hour {
		open = today // before opening: what arrived online overnight
	}
	if end.Sub(open) < 10*time.Minute {
		open = end.Add(-10 * time.Minute)
	}
	within := func(f float64) time.Time {
		return open.Add(time.Duration(f * float64(end.Sub(open)))).Truncate(time.Second)
	}
	for _, f := range []float64{0.05, 0.27, 0.6, 0.93}[:dailyClean[0]] {
		at, partner, n := within(f), partnerCycle[next%len(partnerCycle)], next
		p.later(at, func() { p.clean(partner, at, n) })
		next++
	}
	for _, e := range []struct {
		f     float64
		build func(time.Time)
	}{
		{0.16, func(at time.Time) { p.nearMatch(ljBank, at) }},
		{0.38, func(at time.Time) { p.oldID(hcBank, at) }},
		{0.50, func(at time.Time) { p.amountReview(ljBank, at) }},
		{0.72, func(at time.Time) {
			p.review(hcBank, at, "借款人为本行员工，按内控要求申请人工审核")
		}},
		{0.84, func(at time.Time) { p.promise(ljBank, at) }},
	} {
		at := within(e.f)
		p.later(at, func() { e.build(at) })
	}
}

// day is midnight of the day back days before now.
func (p *dayPlanner) day(back int) time.Time {
	n := p.now.In(p.loc)
	return time.Date(n.Year(), n.Month(), n.Day()-back, 0, 0, 0, 0, p.loc)
}

// pastAt is a time of day (minutes) on the day back days before now, a
// Sunday moved to the Saturday before.
func (p *dayPlanner) pastAt(back, minutes int) time.Time {
	day := p.day(back)
	if day.Weekday() == time.Sunday {
		day = p.day(back + 1)
	}
	return day.Add(time.Duration(minutes) * time.Minute)
}

func (p *dayPlanner) add(partner int, at time.Time, a *mortgage.Application, want mortgage.Status, codes ...mortgage.Code) {
	p.out = append(p.out, DemoSubmission{Partner: p.demo.Partners[partner], At: at, App: a, Want: want, Codes: codes})
}

// clean sends a first registration the register allows: mostly a home of
// one owner, now and then a jointly owned home with both owners applying,
// and for the banks a company's shop under a maximum-amount mortgage.
func (p *dayPlanner) clean(partner int, at time.Time, n int) {
	switch {
	case partner != fundCtr && n%7 == 5:
		if u, ok := p.take(p.demo.Clean, companyShop); ok {
			p.add(partner, at, p.maximum(partner, u, at, int64(100+n*170%800)*10000_00), mortgage.StatusRegistered)
			return
		}
	case n%6 == 2:
		if u, ok := p.take(p.demo.Joint[:len(p.demo.Joint)-1], func(DemoUnit) bool { return true }); ok {
			p.add(partner, at, p.general(partner, u, at), mortgage.StatusRegistered)
			return
		}
	}
	if u, ok := p.take(p.demo.Clean, personHome); ok {
		p.add(partner, at, p.general(partner, u, at), mortgage.StatusRegistered)
	}
}

func (p *dayPlanner) cancellation(partner int, at time.Time) {
	bank := p.demo.Partners[partner]
	first := true
	for _, m := range p.demo.Mortgages {
		if m.PartnerID != bank.ID {
			continue
		}
		if first { // the samples cancel each partner's first mortgage
			first = false
			continue
		}
		u, ok := p.mortgagedUnit(m)
		if !ok || m.Kind != "general" || len(m.Units) != 1 || len(u.Mortgages) != 1 {
			continue
		}
		p.used[u.UnitNumber] = true
		a := &mortgage.Application{Reference: p.reference(partner, at), Type: mortgage.Cancellation, Mortgagee: mortgagee(bank),
			Agent: demoAgent(partner), Units: []mortgage.UnitRef{u.Ref()},
			Cancellation: &mortgage.CancellationTerms{CertificateNumber: m.CertificateNumber, Reason: "主债权已全部清偿"}}
		attach(a, bank.ID, "application_form", "debt_extinguished_proof", "authorisation")
		p.add(partner, at, a, mortgage.StatusRegistered)
		return
	}
}

// mortgagedUnit is the unused unit a demo mortgage covers, with its mortgages.
func (p *dayPlanner) mortgagedUnit(m DemoMortgage) (DemoUnit, bool) {
	for _, u := range p.demo.Mortgaged {
		if u.UnitNumber == m.Units[0] && !p.used[u.UnitNumber] {
			return u, true
		}
	}
	return DemoUnit{}, false
}

func (p *dayPlanner) seized(partner int, at time.Time) {
	u := p.demo.Seized[len(p.demo.Seized)-1] // the samples use the first
	p.add(partner, at, p.general(partner, u, at), mortgage.StatusRejected, mortgage.CodeUnitSeized)
}

func (p *dayPlanner) jointMissing(partner int, at time.Time) {
	u := p.demo.Joint[len(p.demo.Joint)-1] // the samples use the first
	a := p.general(partner, u, at)
	a.Mortgagors, a.Debtors = a.Mortgagors[:1], a.Debtors[:1]
	p.add(partner, at, a, mortgage.StatusRejected, mortgage.CodeCoOwnerMissing)
}

func (p *dayPlanner) review(partner int, at time.Time, why string) {
	u, ok := p.take(p.demo.Clean, personHome)
	if !ok {
		return
	}
	a := p.general(partner, u, at)
	a.ReviewRequest = why
	p.add(partner, at, a, mortgage.StatusDesk, mortgage.DeskPartnerRequested)
}

// nearMatch writes the owner's name with traditional characters, on a home
// that already carries another lender's mortgage when the register has one.
func (p *dayPlanner) nearMatch(partner int, at time.Time) {
	var best DemoUnit
	score := 0
	for _, list := range [][]DemoUnit{p.demo.Mortgaged, p.demo.Clean} {
		for i := len(list) - 1; i >= 0 && score < 2; i-- {
			u := list[i]
			if p.used[u.UnitNumber] || !personHome(u) || len(u.Mortgages) > 1 ||
				(len(u.Mortgages) == 1 && (len(u.Mortgages[0].Units) != 1 || u.Mortgages[0].PartnerID == p.demo.Partners[partner].ID)) {
				continue
			}
			if _, n := traditionalName(u.Owners[0].Name); n > score {
				best, score = u, n
			}
		}
		if score > 0 {
			break
		}
	}
	if score == 0 { // no owner's name has a character with a traditional form: a space will do
		u, ok := p.take(p.demo.Clean, personHome)
		if !ok {
			return
		}
		best = u
	}
	p.used[best.UnitNumber] = true
	a := p.general(partner, best, at)
	written, _ := traditionalName(best.Owners[0].Name)
	if score == 0 {
		r := []rune(written)
		written = string(r[:1]) + " " + string(r[1:])
	}
	for _, ps := range [][]mortgage.Party{a.Mortgagors, a.Debtors} {
		ps[0].Name = written
	}
	a.Materials = append(a.Materials, idScan())
	p.add(partner, at, a, mortgage.StatusDesk, mortgage.DeskNameNearMatch)
}

// oldID gives an owner born before 2000 as the mortgagor with the 15-digit
// ID number of their first identity card.
func (p *dayPlanner) oldID(partner int, at time.Time) {
	u, ok := p.take(p.demo.Clean, func(u DemoUnit) bool { return personHome(u) && u.Owners[0].IDNumber[6:8] == "19" })
	if !ok {
		return
	}
	a := p.general(partner, u, at)
	id := u.Owners[0].IDNumber
	old := id[:6] + id[8:17]
	a.Mortgagors[0].IDNumber, a.Debtors[0].IDNumber = old, old
	a.Materials = append(a.Materials, idScan())
	p.add(partner, at, a, mortgage.StatusDesk, mortgage.DeskOldIDNumber)
}

// amountReview is a company's maximum-amount mortgage above the review line
// (10,000,000 yuan by default).
func (p *dayPlanner) amountReview(partner int, at time.Time) {
	u, ok := p.take(p.demo.Clean, companyShop)
	if !ok {
		if u, ok = p.take(p.demo.Clean, personHome); !ok {
			return
		}
	}
	p.add(partner, at, p.maximum(partner, u, at, 12_800_000_00), mortgage.StatusDesk, mortgage.DeskAmountReview)
}

// promise has the mortgagor's identity document promised within three days
// (容缺受理 as the centre's plan names it; the contracts cannot be promised).
func (p *dayPlanner) promise(partner int, at time.Time) {
	u, ok := p.take(p.demo.Clean, personHome)
	if !ok {
		return
	}
	a := p.general(partner, u, at)
	due := p.day(-3)
	if due.Weekday() == time.Sunday {
		due = due.AddDate(0, 0, 1)
	}
	a.Promises = []mortgage.Promise{{Kind: "identity_document", DueOn: mortgage.DateOf(due, p.loc)}}
	p.add(partner, at, a, mortgage.StatusDesk, mortgage.DeskPromisedDocument)
}

// take returns the last unused unit of list that ok accepts.
func (p *dayPlanner) take(list []DemoUnit, ok func(DemoUnit) bool) (DemoUnit, bool) {
	for i := len(list) - 1; i >= 0; i-- {
		if u := list[i]; !p.used[u.UnitNumber] && ok(u) {
			p.used[u.UnitNumber] = true
			return u, true
		}
	}
	return DemoUnit{}, false
}

func personHome(u DemoUnit) bool {
	return u.Use == "residential" && u.OwnershipForm == "sole" && u.Owners[0].IDType == mortgage.IDResident
}

func companyShop(u DemoUnit) bool {
	return (u.Use == "commercial" || u.Use == "office") && u.Owners[0].IDType == mortgage.IDCreditCode
}

// general is a home loan's mortgage: the owners as mortgagors and debtors.
func (p *dayPlanner) general(partner int, u DemoUnit, at time.Time) *mortgage.Application {
	p.homes++
	n := p.homes
	no := false
	day := mortgage.DateOf(at, p.loc)
	principal := int64(180+n*137%620) * 1000_00
	years := []int{10, 15, 20, 25, 30}[n%5]
	remarks := "个人住房按揭贷款"
	if partner == fundCtr {
		principal = int64(200+n*53%400) * 1000_00 // the fund lends at most 600,000 yuan
		years, remarks = []int{20, 25, 30}[n%3], "住房公积金个人住房贷款"
	}
	a := p.application(partner, mortgage.FirstGeneral, u, at)
	a.Mortgage = &mortgage.Terms{CollateralKind: "2", PrincipalFen: principal, DebtStart: day,
		DebtEnd: mortgage.Date{Time: day.AddDate(years, 0, -1)}, Scope: standardScope, TransferRestricted: &no}
	a.Remarks = remarks
	attach(a, p.demo.Partners[partner].ID, "application_form", "loan_contract", "mortgage_contract", "authorisation")
	return a
}

// maximum is a business's revolving credit under a maximum-amount mortgage.
func (p *dayPlanner) maximum(partner int, u DemoUnit, at time.Time, maxFen int64) *mortgage.Application {
	yes := true
	day := mortgage.DateOf(at, p.loc)
	a := p.application(partner, mortgage.FirstMaximum, u, at)
	a.Mortgage = &mortgage.Terms{CollateralKind: "2", MaximumFen: maxFen, DebtStart: day,
		DebtEnd: mortgage.Date{Time: day.AddDate(3, 0, -1)}, Scope: standardScope, TransferRestricted: &yes}
	a.Remarks = "流动资金循环贷款，债权确定期间三年"
	attach(a, p.demo.Partners[partner].ID, "application_form", "maximum_mortgage_contract", "loan_contract", "authorisation")
	return a
}

func (p *dayPlanner) application(partner int, t mortgage.Type, u DemoUnit, at time.Time) *mortgage.Application {
	return &mortgage.Application{
		Reference:  p.reference(partner, at),
		Type:       t,
		Units:      []mortgage.UnitRef{u.Ref()},
		Mortgagors: u.Parties(),
		Mortgagee:  mortgagee(p.demo.Partners[partner]),
		Debtors:    u.Parties(),
		Agent:      demoAgent(partner),
	}
}

// reference is the partner's case reference, numbered per day from 0100
// with gaps (the partner's other business).
func (p *dayPlanner) reference(partner int, at time.Time) string {
	day := at.In(p.loc).Format("20060102")
	key := p.demo.Partners[partner].ID + day
	p.refs[key] += 1 + len(p.out)%3
	return fmt.Sprintf("%s-%s-%04d", []string{"LJB", "HCRCB", "GJJ"}[partner], day, 100+p.refs[key])
}

func mortgagee(p Partner) mortgage.Party {
	return mortgage.Party{Name: p.Name, IDType: mortgage.IDCreditCode, IDNumber: p.CreditCode}
}

// demoAgent is each partner's loan officer, who applies with a written
// authorisation; the demo bank's is the one of the samples.
func demoAgent(partner int) *mortgage.Party {
	a := []struct{ name, first17 string }{
		{"刘晓东", "23020219880512003"}, {"孙海波", "23020319850923001"}, {"周丽娟", "23020419901106002"},
	}[partner]
	return &mortgage.Party{Name: a.name, IDType: mortgage.IDResident, IDNumber: a.first17 + string(mortgage.ResidentIDCheckChar(a.first17))}
}

// attach adds one small PDF of each kind.
func attach(a *mortgage.Application, partnerID string, kinds ...string) {
	for _, k := range kinds {
		content := samplePDF(fmt.Sprintf("%s - %s - %s", strings.ReplaceAll(k, "_", " "), a.Reference, partnerID))
		a.Materials = append(a.Materials, material(k, mortgage.MaterialKinds[k]+".pdf", "application/pdf", content))
	}
}

func material(kind, name, mediaType string, content []byte) mortgage.Material {
	sum := sha256.Sum256(content)
	return mortgage.Material{Kind: kind, FileName: name, MediaType: mediaType, SHA256: hex.EncodeToString(sum[:]), Content: content}
}

// traditional writes common simplified characters of names in their
// traditional form; mortgage's near-match table folds them back.
var traditional = map[rune]rune{
	'张': '張', '陈': '陳', '刘': '劉', '赵': '趙', '黄': '黃', '吴': '吳', '孙': '孫', '郑': '鄭',
	'马': '馬', '杨': '楊', '许': '許', '韩': '韓', '冯': '馮', '叶': '葉', '钟': '鍾', '卢': '盧',
	'蒋': '蔣', '龙': '龍', '阎': '閻', '谭': '譚', '钱': '錢', '汤': '湯', '陆': '陸', '顾': '顧',
	'贺': '賀', '苏': '蘇', '邓': '鄧', '万': '萬', '伟': '偉', '华': '華', '国': '國', '东': '東',
	'军': '軍', '红': '紅', '丽': '麗', '凤': '鳳', '强': '強', '杰': '傑', '辉': '輝', '静': '靜',
	'涛': '濤', '鹏': '鵬',
}

// traditionalName is name with the characters above in traditional form,
// and how many were changed.
func traditionalName(name string) (string, int) {
	n := 0
	out := []rune(name)
	for i, r := range out {
		if t, ok := traditional[r]; ok {
			out[i] = t
			n++
		}
	}
	return string(out), n
}

// idScan is a small PNG standing for the scan of a resident identity card:
// a pale card on the scanner's grey, a photo, lines of text and the number.
func idScan() mortgage.Material {
	img := image.NewRGBA(image.Rect(0, 0, 480, 300))
	fill := func(x0, y0, x1, y1 int, c color.RGBA) {
		draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
	}
	fill(0, 0, 480, 300, color.RGBA{0xde, 0xdc, 0xd6, 0xff})
	fill(26, 24, 454, 276, color.RGBA{0xb8, 0xc4, 0xcc, 0xff}) // edge
	fill(28, 26, 452, 274, color.RGBA{0xee, 0xf3, 0xf5, 0xff})
	fill(330, 56, 428, 178, color.RGBA{0xc5, 0xcd, 0xd3, 0xff}) // photo
	fill(356, 76, 402, 122, color.RGBA{0x9a, 0xa6, 0xaf, 0xff})
	fill(344, 128, 414, 178, color.RGBA{0x9a, 0xa6, 0xaf, 0xff})
	for i, w := range []int{120, 190, 150, 250, 210} {
		y := 56 + i*28
		fill(52, y, 52+34, y+10, color.RGBA{0x8a, 0x96, 0xa0, 0xff}) // label
		fill(98, y, 98+w*9/10, y+10, color.RGBA{0x33, 0x3d, 0x45, 0xff})
	}
	fill(52, 226, 428, 240, color.RGBA{0x2b, 0x35, 0x3c, 0xff}) // 公民身份号码
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img); err != nil {
		panic(err) // encoding to memory does not fail
	}
	return material("identity_document", mortgage.MaterialKinds["identity_document"]+".png", "image/png", b.Bytes())
}
