package console

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"mortgaged/mortgage"
)

// unitExcerpt is one unit as the register (登记簿) records it today.
type unitExcerpt struct {
	Number        string `db:"unit_number"`
	Location      string `db:"location"`
	Use           string `db:"use"`
	Area          string `db:"area_m2"`
	TitleNumber   string `db:"title_certificate_number"`
	OwnershipForm string `db:"ownership_form"`
	Mortgageable  bool   `db:"mortgageable"`
	Found         bool   `db:"-"`
	BankTitle     string `db:"-"` // the title certificate number the bank sent
	Owners        []ownerEntry
	Mortgages     []mortgageEntry
	Seizures      []seizureEntry
	Objections    []objectionEntry
	Prereg        []preregEntry
}

// Restricted reports whether anything stands on the unit that blocks or
// qualifies a new mortgage.
func (u *unitExcerpt) Restricted() bool {
	return len(u.Seizures) > 0 || len(u.Objections) > 0 || len(u.Prereg) > 0 || !u.Mortgageable
}

type ownerEntry struct {
	Unit     string        `db:"unit_number"`
	Name     string        `db:"name"`
	IDType   string        `db:"id_type"`
	IDNumber string        `db:"id_number"`
	ShareNum sql.NullInt64 `db:"share_numerator"`
	ShareDen sql.NullInt64 `db:"share_denominator"`
}

// Share is the owner's share, "1/2", or "".
func (o ownerEntry) Share() string {
	if !o.ShareNum.Valid {
		return ""
	}
	return fmt.Sprintf("%d/%d", o.ShareNum.Int64, o.ShareDen.Int64)
}

type mortgageEntry struct {
	Unit         string         `db:"unit_number"`
	Rank         int            `db:"rank"`
	ID           int64          `db:"id"`
	Certificate  sql.NullString `db:"certificate_number"`
	Kind         string         `db:"kind"`
	PrincipalFen sql.NullInt64  `db:"principal_fen"`
	MaximumFen   sql.NullInt64  `db:"maximum_fen"`
	Mortgagee    string         `db:"mortgagee_name"`
	DebtStart    time.Time      `db:"debt_start"`
	DebtEnd      time.Time      `db:"debt_end"`
	RegisteredAt time.Time      `db:"registered_at"`
	ThisBundle   bool           `db:"-"`
}

// AmountFen is the secured amount: principal, or the maximum for a maximum-amount mortgage.
func (m mortgageEntry) AmountFen() int64 {
	if m.PrincipalFen.Valid {
		return m.PrincipalFen.Int64
	}
	return m.MaximumFen.Int64
}

type seizureEntry struct {
	Unit      string       `db:"unit_number"`
	Authority string       `db:"authority"`
	Document  string       `db:"document_number"`
	From      time.Time    `db:"seized_from"`
	Until     sql.NullTime `db:"seized_until"`
}

type objectionEntry struct {
	Unit       string       `db:"unit_number"`
	Applicant  string       `db:"applicant"`
	Matter     string       `db:"matter"`
	Registered time.Time    `db:"registered_on"`
	Expires    sql.NullTime `db:"expires_on"`
}

type preregEntry struct {
	Unit       string    `db:"unit_number"`
	Kind       string    `db:"kind"`
	Holder     string    `db:"holder_name"`
	HolderID   string    `db:"holder_id_number"`
	Registered time.Time `db:"registered_on"`
}

// KindLabel names the pre-registration kind.
func (p preregEntry) KindLabel() string {
	if p.Kind == "purchase" {
		return "预购商品房预告登记"
	}
	return "预购商品房抵押权预告登记"
}

const (
	excerptUnitsSQL = `SELECT unit_number, location, use, area_m2::text AS area_m2, title_certificate_number, ownership_form, mortgageable
		FROM units WHERE unit_number = ANY($1)`
	excerptOwnersSQL = `SELECT unit_number, name, id_type, id_number, share_numerator, share_denominator
		FROM owners WHERE unit_number = ANY($1) ORDER BY unit_number, seq`
	excerptMortgagesSQL = `SELECT mu.unit_number, mu.rank, m.id, m.certificate_number, m.kind, m.principal_fen, m.maximum_fen,
			m.mortgagee_name, m.debt_start, m.debt_end, m.registered_at
		FROM mortgage_units mu JOIN mortgages m ON m.id = mu.mortgage_id
		WHERE mu.unit_number = ANY($1) AND mu.current ORDER BY mu.unit_number, mu.rank`
	excerptSeizuresSQL = `SELECT unit_number, authority, document_number, seized_from, seized_until FROM seizures
		WHERE unit_number = ANY($1) AND lifted_at IS NULL AND (seized_until IS NULL OR seized_until >= $2)
		ORDER BY unit_number, seized_from`
	excerptObjectionsSQL = `SELECT unit_number, applicant, matter, registered_on, expires_on FROM objections
		WHERE unit_number = ANY($1) AND cancelled_at IS NULL AND (expires_on IS NULL OR expires_on >= $2)
		ORDER BY unit_number, registered_on`
	excerptPreregSQL = `SELECT unit_number, kind, holder_name, holder_id_number, registered_on FROM preregistrations
		WHERE unit_number = ANY($1) AND ended_at IS NULL ORDER BY unit_number, registered_on`
)

// readExcerpts reads the register for the application's units, in the
// application's order. ownMortgage marks the right this bundle registered.
func readExcerpts(ctx context.Context, db sqlx.QueryerContext, units []mortgage.UnitRef, today time.Time, ownMortgage int64) ([]*unitExcerpt, error) {
	numbers := make([]string, len(units))
	for i, u := range units {
		numbers[i] = u.UnitNumber
	}
	arr := pq.Array(numbers)
	var found []unitExcerpt
	if err := sqlx.SelectContext(ctx, db, &found, excerptUnitsSQL, arr); err != nil {
		return nil, fmt.Errorf("register units: %w", err)
	}
	byNumber := map[string]*unitExcerpt{}
	out := make([]*unitExcerpt, len(units))
	for i, u := range units {
		out[i] = &unitExcerpt{Number: u.UnitNumber, BankTitle: u.TitleCertificateNumber}
		for _, f := range found {
			if strings.TrimSpace(f.Number) == u.UnitNumber {
				f.Number, f.Found, f.BankTitle = u.UnitNumber, true, u.TitleCertificateNumber
				*out[i] = f
			}
		}
		byNumber[u.UnitNumber] = out[i]
	}
	var owners []ownerEntry
	if err := sqlx.SelectContext(ctx, db, &owners, excerptOwnersSQL, arr); err != nil {
		return nil, fmt.Errorf("register owners: %w", err)
	}
	for _, o := range owners {
		if u := byNumber[strings.TrimSpace(o.Unit)]; u != nil {
			u.Owners = append(u.Owners, o)
		}
	}
	var ms []mortgageEntry
	if err := sqlx.SelectContext(ctx, db, &ms, excerptMortgagesSQL, arr); err != nil {
		return nil, fmt.Errorf("register mortgages: %w", err)
	}
	for _, m := range ms {
		m.ThisBundle = ownMortgage != 0 && m.ID == ownMortgage
		if u := byNumber[strings.TrimSpace(m.Unit)]; u != nil {
			u.Mortgages = append(u.Mortgages, m)
		}
	}
	var ss []seizureEntry
	if err := sqlx.SelectContext(ctx, db, &ss, excerptSeizuresSQL, arr, today); err != nil {
		return nil, fmt.Errorf("register seizures: %w", err)
	}
	for _, s := range ss {
		if u := byNumber[strings.TrimSpace(s.Unit)]; u != nil {
			u.Seizures = append(u.Seizures, s)
		}
	}
	var os []objectionEntry
	if err := sqlx.SelectContext(ctx, db, &os, excerptObjectionsSQL, arr, today); err != nil {
		return nil, fmt.Errorf("register objections: %w", err)
	}
	for _, o := range os {
		if u := byNumber[strings.TrimSpace(o.Unit)]; u != nil {
			u.Objections = append(u.Objections, o)
		}
	}
	var ps []preregEntry
	if err := sqlx.SelectContext(ctx, db, &ps, excerptPreregSQL, arr); err != nil {
		return nil, fmt.Errorf("register pre-registrations: %w", err)
	}
	for _, p := range ps {
		if u := byNumber[strings.TrimSpace(p.Unit)]; u != nil {
			u.Prereg = append(u.Prereg, p)
		}
	}
	return out, nil
}

// compareRow sets what the bank sent beside what the register says.
type compareRow struct {
	Unit     string
	Field    string // Chinese
	Bank     string
	Register string
	Match    bool
	Note     string // why they differ, or how they still match
}

// compare lines the application up against the register: each unit's
// title certificate, each mortgagor against the owners (by ID number, then
// by name), and each owner who is not a mortgagor.
func compare(app *mortgage.Application, units []*unitExcerpt) []compareRow {
	var rows []compareRow
	for _, u := range units {
		if !u.Found {
			rows = append(rows, compareRow{Unit: u.Number, Field: "不动产单元", Bank: u.Number, Register: "登记簿无此单元", Note: "单元号不存在"})
			continue
		}
		if u.BankTitle != "" {
			row := compareRow{Unit: u.Number, Field: "不动产权证书号", Bank: u.BankTitle, Register: u.TitleNumber}
			row.Match = sameCertificate(u.BankTitle, u.TitleNumber)
			if !row.Match {
				row.Note = "证书号不一致"
			}
			rows = append(rows, row)
		}
		if !app.Type.IsFirst() {
			continue
		}
		matched := make([]bool, len(u.Owners))
		for _, p := range app.Mortgagors {
			row := compareRow{Unit: u.Number, Field: "抵押人", Bank: p.Name + "（" + p.IDNumber + "）"}
			i, how := matchOwner(p, u.Owners)
			if i < 0 {
				row.Register = "—"
				row.Note = "不是该单元登记簿记载的权利人"
				rows = append(rows, row)
				continue
			}
			matched[i] = true
			o := u.Owners[i]
			row.Register = o.Name + "（" + o.IDNumber + "）"
			switch how {
			case matchExact:
				row.Match = true
			case matchNearName:
				row.Note = "姓名近似：仅全角/半角、空格、间隔号或繁简体不同"
			case matchOtherName:
				row.Note = "证件号码相同，姓名不一致"
			case matchOldID:
				row.Note = "15 位旧身份证号码，与登记簿 18 位号码对应"
				if p.Name != o.Name {
					row.Note += "；姓名不一致"
				}
			case matchNameOnly:
				row.Note = "姓名相同，证件号码不一致"
			}
			rows = append(rows, row)
		}
		for i, o := range u.Owners {
			if !matched[i] {
				note := "该权利人未列为抵押人"
				if u.OwnershipForm == "joint" {
					note += "（共同共有须全体共有人抵押）"
				}
				rows = append(rows, compareRow{Unit: u.Number, Field: "权利人", Bank: "（未申报）", Register: o.Name + "（" + o.IDNumber + "）", Note: note})
			}
		}
	}
	return rows
}

type ownerMatch int

const (
	matchExact     ownerMatch = iota // same ID number and name
	matchNearName                    // same ID number, names equal after folding width, spaces and traditional forms
	matchOtherName                   // same ID number, another name
	matchOldID                       // 15-digit ID that upgrades to the owner's 18-digit one
	matchNameOnly                    // same name, another ID number
)

func matchOwner(p mortgage.Party, owners []ownerEntry) (int, ownerMatch) {
	id := strings.ToUpper(strings.TrimSpace(p.IDNumber))
	for i, o := range owners {
		if strings.ToUpper(o.IDNumber) == id {
			switch {
			case o.Name == p.Name:
				return i, matchExact
			case mortgage.NamesNearlyMatch(o.Name, p.Name):
				return i, matchNearName
			}
			return i, matchOtherName
		}
	}
	if up, ok := mortgage.UpgradeResidentID(id); ok {
		for i, o := range owners {
			if strings.ToUpper(o.IDNumber) == up {
				return i, matchOldID
			}
		}
	}
	for i, o := range owners {
		if o.Name == p.Name || mortgage.NamesNearlyMatch(o.Name, p.Name) {
			return i, matchNameOnly
		}
	}
	return -1, 0
}

func sameCertificate(a, b string) bool {
	ca, errA := mortgage.ParseCertificateNumber(a)
	cb, errB := mortgage.ParseCertificateNumber(b)
	if errA == nil && errB == nil {
		return ca.String() == cb.String()
	}
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}
