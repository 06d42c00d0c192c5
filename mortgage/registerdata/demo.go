package registerdata

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"mortgaged/mortgage"
)

// DemoDate is the day the demo register is drawn as of. Restrictions date
// from shortly before it and are drawn to stay in force for years after
// (seizures run three years, the demo's objections were followed by a
// lawsuit and have no expiry), so the hard cases stay hard whenever the demo
// runs before 2028.
var DemoDate = mortgage.NewDate(2026, time.November, 26)

// MinDemoUnits is the smallest demo: one block, in which every case occurs.
const MinDemoUnits = 100

// Partner is a demo bank or the provident fund centre, as a partner record.
type Partner struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"` // "bank" or "fund_centre"
	Name       string `json:"name"`
	CreditCode string `json:"creditCode"`
}

// DemoUnit is a generated unit, with what tests and samples need of it.
type DemoUnit struct {
	UnitNumber             string         `json:"unitNumber"`
	TitleCertificateNumber string         `json:"titleCertificateNumber"`
	Location               string         `json:"location"`
	Use                    string         `json:"use"`
	OwnershipForm          string         `json:"ownershipForm"`
	Owners                 []Owner        `json:"owners"`
	Mortgages              []DemoMortgage `json:"mortgages,omitempty"` // current, by rank
}

// Parties returns the owners as application parties.
func (u DemoUnit) Parties() []mortgage.Party {
	ps := make([]mortgage.Party, len(u.Owners))
	for i, o := range u.Owners {
		ps[i] = o.Party()
	}
	return ps
}

// Ref returns the unit as an application names it.
func (u DemoUnit) Ref() mortgage.UnitRef {
	return mortgage.UnitRef{UnitNumber: u.UnitNumber, TitleCertificateNumber: u.TitleCertificateNumber}
}

// DemoMortgage is an existing current mortgage in the demo register.
type DemoMortgage struct {
	CertificateNumber string   `json:"certificateNumber"`
	Kind              string   `json:"kind"` // general | maximum
	Rank              int      `json:"rank"` // on every unit it covers
	PartnerID         string   `json:"partnerId"`
	MortgageeCode     string   `json:"mortgageeCreditCode"`
	Units             []string `json:"units"`
}

// Demo describes a generated register: its partners and, per case, the
// units in it. Every unit is in exactly one case list.
type Demo struct {
	Seed     int64     `json:"seed"`
	Units    int       `json:"units"`
	Partners []Partner `json:"partners"` // lj-bank (the demo bank of the samples), hc-rcb, qqhr-fund

	Clean           []DemoUnit `json:"clean"`           // no current restriction (some carry lapsed ones)
	Seized          []DemoUnit `json:"seized"`          // a current court seizure
	Joint           []DemoUnit `json:"joint"`           // joint ownership, two owners
	Shares          []DemoUnit `json:"shares"`          // ownership in shares summing to 1
	Mortgaged       []DemoUnit `json:"mortgaged"`       // current mortgages held by demo partners
	Objection       []DemoUnit `json:"objection"`       // an open objection
	Preregistered   []DemoUnit `json:"preregistered"`   // another party's purchase pre-registration
	NotMortgageable []DemoUnit `json:"notMortgageable"` // schools and welfare homes, mortgageable=false

	Mortgages []DemoMortgage `json:"mortgages"` // every existing mortgage once
}

// Partner returns the demo partner with the id.
func (d Demo) Partner(id string) (Partner, bool) {
	for _, p := range d.Partners {
		if p.ID == id {
			return p, true
		}
	}
	return Partner{}, false
}

// demoCase is what a generated unit is an example of.
type demoCase int

const (
	caseClean demoCase = iota
	caseSeized
	caseJoint
	caseShares
	caseMortgaged  // one rank-1 mortgage
	caseMortgaged2 // rank 1 and rank 2
	casePairHome   // a home and, next, its garage under one mortgage
	casePairGarage
	caseObjection
	casePrereg
	caseNotMortgageable
)

// blockPlan is the fixed make-up of every 100 units; the order within a
// block is shuffled. The rest of a block is clean.
var blockPlan = []struct {
	c demoCase
	n int
}{
	{caseSeized, 2}, {caseJoint, 6}, {caseShares, 6}, {caseMortgaged, 10}, {caseMortgaged2, 2},
	{casePairHome, 1}, {caseObjection, 2}, {casePrereg, 2}, {caseNotMortgageable, 1},
}

const blockSize = 100

// Share splits used in turn by units in shares.
var shareSplits = [][]string{{"1/2", "1/2"}, {"2/3", "1/3"}, {"1/3", "1/3", "1/3"}, {"3/5", "2/5"}}

// GenerateDemo writes a synthetic Qiqihar register of units lines (at least
// MinDemoUnits) to w in the import format, and describes it. The same seed
// gives the same file. Every 100 units hold, in shuffled order: 2 seized,
// 6 jointly owned, 6 in shares, 10 with one mortgage, 2 with mortgages of
// rank 1 and 2, a home and its garage under one mortgage, 2 with an open
// objection, 2 with another party's purchase pre-registration, 1 that cannot
// be mortgaged and 67 clean; a last partial block takes the first units of
// its shuffled plan.
func GenerateDemo(w io.Writer, units int, seed int64) (Demo, error) {
	if units < MinDemoUnits {
		return Demo{}, fmt.Errorf("demo register needs at least %d units, got %d", MinDemoUnits, units)
	}
	g := &generator{
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		parcels: map[string]int{},
		serials: map[string]int{},
		schools: map[string]int{},
		demo:    Demo{Seed: seed, Units: units, Partners: append([]Partner(nil), demoPartners...)},
	}
	for _, d := range districts {
		g.totalWeight += d.weight
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for start := 0; start < units; start += blockSize {
		for _, u := range g.block(min(blockSize, units-start)) {
			b, err := json.Marshal(u)
			if err != nil {
				return Demo{}, err
			}
			b = append(b, '\n')
			if _, err := bw.Write(b); err != nil {
				return Demo{}, err
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return Demo{}, err
	}
	return g.demo, nil
}

// generator is the state of one demo run; every draw comes from rng in a
// fixed order, so a seed fixes the output.
type generator struct {
	rng         *rand.Rand
	totalWeight int
	estate      *estate
	parcels     map[string]int // division → last parcel sequence
	serials     map[string]int // certificate place, kind and year → last serial
	schools     map[string]int // division → last facility number
	mortgages   int            // existing mortgages so far, for mortgageePattern
	shares      int            // units in shares so far, for shareSplits
	clean       int            // clean units so far, for lapsed history
	demo        Demo
}

// block plans and builds n units of one block.
func (g *generator) block(n int) []Unit {
	type item struct {
		c    demoCase
		size int
	}
	var items []item
	planned := 0
	for _, p := range blockPlan {
		size := 1
		if p.c == casePairHome {
			size = 2
		}
		for i := 0; i < p.n; i++ {
			items = append(items, item{p.c, size})
			planned += size
		}
	}
	for ; planned < blockSize; planned++ {
		items = append(items, item{caseClean, 1})
	}
	g.rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	var cases []demoCase
	for _, it := range items {
		cases = append(cases, it.c)
		if it.c == casePairHome {
			cases = append(cases, casePairGarage)
		}
	}
	cases = cases[:n]
	if cases[n-1] == casePairHome { // its garage fell past the end
		cases[n-1] = caseMortgaged
	}

	out := make([]Unit, 0, n)
	for i := 0; i < len(cases); i++ {
		switch cases[i] {
		case casePairHome:
			home, garage := g.pair()
			out = append(out, home, garage)
			i++
		default:
			out = append(out, g.unit(cases[i]))
		}
	}
	return out
}

// unit builds one unit of a case and records it in the demo.
func (g *generator) unit(c demoCase) Unit {
	use := "residential"
	switch c {
	case caseClean:
		use = g.pickUse()
	case caseMortgaged, caseMortgaged2:
		if g.rng.IntN(100) < 15 {
			use = "commercial"
		}
	case caseNotMortgageable:
		return g.facility()
	}
	u := g.place(use)
	d := g.estate.d
	switch c {
	case caseJoint:
		u.OwnershipForm = "joint"
		u.Owners = g.distinctPeople(d, 2)
	case caseShares:
		split := shareSplits[g.shares%len(shareSplits)]
		g.shares++
		u.OwnershipForm = "shares"
		u.Owners = g.distinctPeople(d, len(split))
		for i := range u.Owners {
			u.Owners[i].Share = split[i]
		}
	case casePrereg:
		u.OwnershipForm = "sole"
		u.Owners = []Owner{g.developer(d)} // a new home not yet handed over
	default:
		u.OwnershipForm = "sole"
		if (use == "commercial" || use == "office") && g.rng.IntN(2) == 0 {
			u.Owners = []Owner{g.company(d)}
		} else {
			u.Owners = []Owner{g.person(d)}
		}
	}
	du := demoUnit(u)
	switch c {
	case caseClean:
		g.lapsedHistory(&u)
		g.demo.Clean = append(g.demo.Clean, du)
	case caseSeized:
		from := g.dayBefore(DemoDate, 5, 330)
		u.Seizures = []Seizure{{Authority: d.court(), DocumentNumber: g.caseNumber(d, from, "执"),
			From: from.String(), Until: from.AddDate(3, 0, -1).Format(time.DateOnly)}}
		g.demo.Seized = append(g.demo.Seized, du)
	case caseJoint:
		g.demo.Joint = append(g.demo.Joint, du)
	case caseShares:
		g.demo.Shares = append(g.demo.Shares, du)
	case caseMortgaged, caseMortgaged2:
		g.mortgage(&u, &du, []*Unit{&u}, c == caseMortgaged2)
		g.demo.Mortgaged = append(g.demo.Mortgaged, du)
	case caseObjection:
		applicant := g.person(d)
		matters := []string{
			fmt.Sprintf("主张该房屋为其与%s共同共有", u.Owners[0].Name),
			"主张该房屋系其出资购买，登记权利人有误",
			fmt.Sprintf("主张%s转让该房屋的合同已被撤销", u.Owners[0].Name),
		}
		u.Objections = []Objection{{Applicant: applicant.Name, Matter: matters[g.rng.IntN(len(matters))],
			RegisteredOn: g.dayBefore(DemoDate, 3, 60).String()}}
		g.demo.Objection = append(g.demo.Objection, du)
	case casePrereg:
		buyer := g.person(d)
		u.Preregistrations = []Preregistration{{Kind: "purchase", HolderName: buyer.Name, HolderIDType: buyer.IDType,
			HolderIDNumber: buyer.IDNumber, RegisteredOn: g.dayBefore(DemoDate, 10, 330).String()}}
		g.demo.Preregistered = append(g.demo.Preregistered, du)
	}
	return u
}

// pair builds a home and a garage of one owner under one mortgage.
func (g *generator) pair() (Unit, Unit) {
	home := g.place("residential")
	garage := g.place("garage")
	owner := g.person(g.estate.d)
	home.OwnershipForm, garage.OwnershipForm = "sole", "sole"
	home.Owners, garage.Owners = []Owner{owner}, []Owner{owner}
	dh, dg := demoUnit(home), demoUnit(garage)
	g.mortgage(&home, &dh, []*Unit{&home, &garage}, false)
	dg.Mortgages = dh.Mortgages
	g.demo.Mortgaged = append(g.demo.Mortgaged, dh, dg)
	return home, garage
}

// facility builds a school or welfare home: public-interest property that
// cannot be mortgaged, on its own parcel.
func (g *generator) facility() Unit {
	d := g.pickDistrict()
	f := facilities[g.rng.IntN(len(facilities))]
	g.schools[d.code]++
	name := d.place + fmt.Sprintf(f.name, chineseNumber(min(g.schools[d.code], 99)))
	if d.place == city {
		name = city + d.name + fmt.Sprintf(f.name, chineseNumber(min(g.schools[d.code], 99)))
	}
	prefix := g.parcel(d)
	no := false
	u := Unit{
		UnitNumber:    prefix + "F00010001",
		Location:      g.address(d) + "（" + name + "）" + f.building,
		Use:           "other",
		AreaM2:        g.area(240000, 980000),
		OwnershipForm: "sole",
		Mortgageable:  &no,
		Owners:        []Owner{{Name: name, IDType: mortgage.IDCreditCode, IDNumber: creditCode("12" + d.code + "4" + g.digits(8))}},
	}
	u.TitleCertificateNumber = g.serial(d.place, mortgage.CertTitle, 2016+g.rng.IntN(9))
	g.demo.NotMortgageable = append(g.demo.NotMortgageable, demoUnit(u))
	return u
}

// mortgage puts a current mortgage (and with second, a rank-2 maximum-amount
// one) on the units and records them in du and the demo.
func (g *generator) mortgage(first *Unit, du *DemoUnit, units []*Unit, second bool) {
	titleYear := certYear(first.TitleCertificateNumber)
	holder := mortgageePattern[g.mortgages%len(mortgageePattern)]
	g.mortgages++
	kind := "general"
	if first.Use == "commercial" {
		kind = "maximum" // a business's revolving credit
		if demoPartners[holder].Kind == "fund_centre" {
			holder = 1 // the fund centre lends only for homes
		}
	}
	lastYear := 2025
	if second {
		lastYear = 2024
	}
	m1 := g.mortgageTerms(kind, holder, titleYear, lastYear, 1)
	numbers := make([]string, len(units))
	for i, u := range units {
		numbers[i] = u.UnitNumber
		u.Mortgages = append(u.Mortgages, m1)
	}
	dm1 := DemoMortgage{CertificateNumber: m1.CertificateNumber, Kind: kind, Rank: 1, PartnerID: demoPartners[holder].ID,
		MortgageeCode: demoPartners[holder].CreditCode, Units: numbers}
	du.Mortgages = append(du.Mortgages, dm1)
	g.demo.Mortgages = append(g.demo.Mortgages, dm1)
	if !second {
		return
	}
	bank := 0 // the fund centre lends only first mortgages on homes; a second is a bank's business loan
	if holder == 0 {
		bank = 1
	}
	m2 := g.mortgageTerms("maximum", bank, certYear(m1.CertificateNumber)+1, 2025, 2)
	first.Mortgages = append(first.Mortgages, m2)
	dm2 := DemoMortgage{CertificateNumber: m2.CertificateNumber, Kind: "maximum", Rank: 2, PartnerID: demoPartners[bank].ID,
		MortgageeCode: demoPartners[bank].CreditCode, Units: []string{first.UnitNumber}}
	du.Mortgages = append(du.Mortgages, dm2)
	g.demo.Mortgages = append(g.demo.Mortgages, dm2)
}

// mortgageTerms draws a mortgage registered between fromYear and toYear.
func (g *generator) mortgageTerms(kind string, holder, fromYear, toYear, rank int) Mortgage {
	fromYear = min(max(fromYear, 2016), toYear)
	year := fromYear + g.rng.IntN(toYear-fromYear+1)
	regDay := time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.rng.IntN(360))
	at := time.Date(year, regDay.Month(), regDay.Day(), 9+g.rng.IntN(7), g.rng.IntN(60), 0, 0, shanghai)
	start := regDay.AddDate(0, 0, -1-g.rng.IntN(3))
	restricted := g.rng.IntN(5) == 0
	p := demoPartners[holder]
	m := Mortgage{
		CertificateNumber:  g.serial(g.estate.d.place, mortgage.CertRegistration, year),
		Kind:               kind,
		CollateralKind:     "2", // land and house
		Scope:              standardScope,
		TransferRestricted: &restricted,
		Mortgagee:          mortgage.Party{Name: p.Name, IDType: mortgage.IDCreditCode, IDNumber: p.CreditCode},
		Rank:               rank,
		RegisteredAt:       at.Format(time.RFC3339),
		RecordingOfficer:   recordingOfficers[g.rng.IntN(len(recordingOfficers))],
		DebtStart:          start.Format(time.DateOnly),
	}
	if kind == "general" {
		m.PrincipalAmount = Decimal(mortgage.FormatYuan(int64(80+g.rng.IntN(820)) * 1000_00))
		years := []int{10, 15, 20, 25, 30}[g.rng.IntN(5)]
		m.DebtEnd = start.AddDate(years, 0, -1).Format(time.DateOnly)
	} else {
		m.MaximumAmount = Decimal(mortgage.FormatYuan(int64(50+g.rng.IntN(750)) * 10000_00))
		years := []int{3, 5, 10}[g.rng.IntN(3)]
		m.DebtEnd = start.AddDate(years, 0, -1).Format(time.DateOnly)
	}
	return m
}

var shanghai = time.FixedZone("CST", 8*60*60)

// lapsedHistory gives some clean units restrictions that have ended, so
// "clean" means nothing current rather than nothing ever.
func (g *generator) lapsedHistory(u *Unit) {
	g.clean++
	d := g.estate.d
	if g.clean%15 == 0 {
		from := time.Date(2019+g.rng.IntN(3), time.Month(1+g.rng.IntN(12)), 1+g.rng.IntN(28), 0, 0, 0, 0, time.UTC)
		u.Seizures = append(u.Seizures, Seizure{Authority: d.court(), DocumentNumber: g.caseNumber(d, mortgage.Date{Time: from}, "执"),
			From: from.Format(time.DateOnly), Until: from.AddDate(3, 0, -1).Format(time.DateOnly)})
	}
	if g.clean%20 == 0 {
		on := time.Date(2022+g.rng.IntN(3), time.Month(1+g.rng.IntN(12)), 1+g.rng.IntN(28), 0, 0, 0, 0, time.UTC)
		u.Objections = append(u.Objections, Objection{Applicant: g.person(d).Name, Matter: "主张该房屋系其出资购买，登记权利人有误",
			RegisteredOn: on.Format(time.DateOnly), ExpiresOn: on.AddDate(0, 0, 15).Format(time.DateOnly)})
	}
}

func demoUnit(u Unit) DemoUnit {
	return DemoUnit{UnitNumber: u.UnitNumber, TitleCertificateNumber: u.TitleCertificateNumber, Location: u.Location,
		Use: u.Use, OwnershipForm: u.OwnershipForm, Owners: append([]Owner(nil), u.Owners...)}
}

// estate is a residential compound (小区) on one parcel: numbered buildings
// of entrances, floors and doors, plus garages, parking, storerooms, shops
// and offices under fixture codes of their own.
type estate struct {
	d                                   *district
	prefix                              string // the 19 characters up to the fixture code
	address                             string // "龙沙区卜奎大街12号"
	buildings, entrances, floors, doors int
	next                                int            // residential units taken
	others                              map[string]int // use → units taken
}

// Fixture building codes of the non-residential parts of an estate; real
// buildings are numbered from 1 and never reach them.
var otherBuilding = map[string]int{"commercial": 90, "office": 91, "storeroom": 97, "parking": 98, "garage": 99}

func (e *estate) capacity() int { return e.buildings * e.entrances * e.floors * e.doors }

// place takes the next unit of a use in the current estate, starting a new
// estate when its homes run out.
func (g *generator) place(use string) Unit {
	// Only homes start a new estate, so a garage drawn right after the last
	// home of an estate still belongs to it.
	if g.estate == nil || (use == "residential" && g.estate.next >= g.estate.capacity()) {
		g.newEstate()
	}
	e := g.estate
	yes := true
	u := Unit{Use: use, Mortgageable: &yes}
	var building, room int
	switch use {
	case "residential":
		perBuilding := e.entrances * e.floors * e.doors
		building, room = e.next/perBuilding+1, e.next%perBuilding+1
		r := room - 1
		entrance := r/(e.floors*e.doors) + 1
		floor := r%(e.floors*e.doors)/e.doors + 1
		door := r%e.doors + 1
		e.next++
		u.Location = fmt.Sprintf("%s%d栋%d单元%d%02d室", e.address, building, entrance, floor, door)
		u.AreaM2 = g.area(4800, 14500)
	default:
		e.others[use]++
		building, room = otherBuilding[use], e.others[use]
		switch use {
		case "garage":
			u.Location = fmt.Sprintf("%s地下车库%03d号车库", e.address, room)
			u.AreaM2 = g.area(1800, 3800)
		case "parking":
			u.Location = fmt.Sprintf("%s地下停车场%03d号车位", e.address, room)
			u.AreaM2 = g.area(1200, 1600)
		case "storeroom":
			u.Location = fmt.Sprintf("%s%d栋地下室%d号储藏室", e.address, 1+g.rng.IntN(e.buildings), room)
			u.AreaM2 = g.area(400, 1200)
		case "commercial":
			u.Location = fmt.Sprintf("%s%d栋%d号商服", e.address, 1+g.rng.IntN(e.buildings), 100+room)
			u.AreaM2 = g.area(2500, 26000)
		case "office":
			u.Location = fmt.Sprintf("%s综合楼%d层%02d室", e.address, 2+room/10, room%10+1)
			u.AreaM2 = g.area(4000, 22000)
		}
	}
	u.UnitNumber = fmt.Sprintf("%sF%04d%04d", e.prefix, building, room)
	u.TitleCertificateNumber = g.serial(e.d.place, mortgage.CertTitle, 2016+g.rng.IntN(9))
	return u
}

func (g *generator) newEstate() {
	d := g.pickDistrict()
	g.estate = &estate{
		d:         d,
		prefix:    g.parcel(d),
		address:   g.address(d),
		buildings: 2 + g.rng.IntN(11),
		entrances: 1 + g.rng.IntN(4),
		floors:    []int{6, 6, 7, 11, 18}[g.rng.IntN(5)],
		doors:     2,
		others:    map[string]int{},
	}
}

// parcel allocates a new parcel in d: division, cadastral district and
// sub-district, state construction land (GB), and a sequence unique in d.
func (g *generator) parcel(d *district) string {
	g.parcels[d.code]++
	return fmt.Sprintf("%s%03d%03dGB%05d", d.code, 1+g.rng.IntN(9), 1+g.rng.IntN(20), g.parcels[d.code])
}

func (g *generator) address(d *district) string {
	return fmt.Sprintf("%s%s%s%d号", d.name, d.town, d.streets[g.rng.IntN(len(d.streets))], 1+g.rng.IntN(299))
}

func (g *generator) pickDistrict() *district {
	n := g.rng.IntN(g.totalWeight)
	for i := range districts {
		if n < districts[i].weight {
			return &districts[i]
		}
		n -= districts[i].weight
	}
	return &districts[0]
}

// pickUse draws the use of a clean unit: mostly homes.
func (g *generator) pickUse() string {
	n := g.rng.IntN(100)
	for _, u := range []struct {
		use string
		pct int
	}{{"residential", 78}, {"garage", 6}, {"parking", 4}, {"storeroom", 3}, {"commercial", 6}, {"office", 3}} {
		if n < u.pct {
			return u.use
		}
		n -= u.pct
	}
	return "residential"
}

// serial issues the next certificate number of a kind for place and year.
func (g *generator) serial(place string, kind mortgage.CertKind, year int) string {
	key := fmt.Sprintf("%s%s%d", place, kind, year)
	g.serials[key]++
	return mortgage.CertificateNumber{Province: "黑", Year: year, Place: place, Kind: kind, Serial: g.serials[key]}.String()
}

// person draws a resident: a common name and a valid resident ID issued in
// Qiqihar (mostly in d), born 1955–2000.
func (g *generator) person(d *district) Owner {
	div := d.code
	if g.rng.IntN(10) < 3 {
		div = districts[g.rng.IntN(len(districts))].code
	}
	born := time.Date(1955, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.rng.IntN(46*365))
	first17 := fmt.Sprintf("%s%s%03d", div, born.Format("20060102"), 1+g.rng.IntN(999))
	return Owner{Name: g.name(), IDType: mortgage.IDResident, IDNumber: first17 + string(mortgage.ResidentIDCheckChar(first17))}
}

// distinctPeople draws n residents with different ID numbers.
func (g *generator) distinctPeople(d *district, n int) []Owner {
	var out []Owner
	seen := map[string]bool{}
	for len(out) < n {
		p := g.person(d)
		if !seen[p.IDNumber] {
			seen[p.IDNumber] = true
			out = append(out, p)
		}
	}
	return out
}

func (g *generator) name() string {
	// The smaller of two draws favours the common surnames at the front.
	s := surnames[min(g.rng.IntN(len(surnames)), g.rng.IntN(len(surnames)))]
	given := string(givenChars[g.rng.IntN(len(givenChars))])
	if g.rng.IntN(10) < 7 {
		given += string(givenChars[g.rng.IntN(len(givenChars))])
	}
	return string(s) + given
}

func (g *generator) company(d *district) Owner {
	name := companyPrefixes[g.rng.IntN(len(companyPrefixes))] + companyCores[g.rng.IntN(len(companyCores))] +
		companyIndustries[g.rng.IntN(len(companyIndustries))]
	return Owner{Name: name, IDType: mortgage.IDCreditCode, IDNumber: creditCode("91" + d.code + "MA" + g.alnum(7))}
}

func (g *generator) developer(d *district) Owner {
	name := companyPrefixes[g.rng.IntN(len(companyPrefixes))] + companyCores[g.rng.IntN(len(companyCores))] +
		developerKinds[g.rng.IntN(len(developerKinds))]
	return Owner{Name: name, IDType: mortgage.IDCreditCode, IDNumber: creditCode("91" + d.code + "MA" + g.alnum(7))}
}

// creditAlphabet is the GB 32100 alphabet (no I, O, Z, S, V).
const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func (g *generator) alnum(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(creditAlphabet[g.rng.IntN(len(creditAlphabet))])
	}
	return b.String()
}

func (g *generator) digits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + g.rng.IntN(10)))
	}
	return b.String()
}

// area draws an area in [lo, hi) hundredths of a square metre.
func (g *generator) area(lo, hi int) Decimal {
	return Decimal(mortgage.FormatYuan(int64(lo + g.rng.IntN(hi-lo))))
}

// dayBefore draws a day between minDays and maxDays before d.
func (g *generator) dayBefore(d mortgage.Date, minDays, maxDays int) mortgage.Date {
	return mortgage.Date{Time: d.AddDate(0, 0, -(minDays + g.rng.IntN(maxDays-minDays+1)))}
}

// caseNumber is a court case number such as (2026)黑0202执123号.
func (g *generator) caseNumber(d *district, on mortgage.Date, kind string) string {
	return fmt.Sprintf("(%d)黑%s%s%d号", on.Year(), d.code[2:], kind, 1+g.rng.IntN(2999))
}

// certYear is the year in a certificate number the generator made.
func certYear(cert string) int {
	c, err := mortgage.ParseCertificateNumber(cert)
	if err != nil {
		panic("registerdata: generated certificate number does not parse: " + cert)
	}
	return c.Year
}
