package console

import (
	"strings"

	"mortgaged/mortgage"
)

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
func compare(app *mortgage.Application, units []*mortgage.UnitExcerpt) []compareRow {
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

func matchOwner(p mortgage.Party, owners []mortgage.OwnerEntry) (int, ownerMatch) {
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
