package mortgage_test

import (
	"slices"
	"strings"
	"testing"

	"mortgaged/mortgage"
)

// TestTextCharacters: what a person cannot see, or would see in another
// order, is refused in every text field with the field's path (PROMISES
// S7); tabs and line breaks only where a text is written as paragraphs.
func TestTextCharacters(t *testing.T) {
	t.Parallel()
	const code = "text_forbidden_character"
	cases := []struct {
		name   string
		change func(a *mortgage.Application)
		field  string // "" when the change is allowed
	}{
		{"OKRemarksLines", func(a *mortgage.Application) { a.Remarks = "第一行\n第二行\r\n\t缩进" }, ""},
		{"OKReviewRequestLines", func(a *mortgage.Application) { a.ReviewRequest = "请核对：\n1. 姓名" }, ""},
		{"OKNameMiddleDot", func(a *mortgage.Application) { a.Mortgagors[0].Name = "阿依古丽·买买提" }, ""},
		{"OKNamePrivateUse", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\ue000" }, ""}, // a rare character from a core system's private range
		{"ErrNameNUL", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\x00伟" }, "mortgagors[0].name"},
		{"ErrNameBidiOverride", func(a *mortgage.Application) { a.Mortgagors[0].Name = "\u202e伟张" }, "mortgagors[0].name"},
		{"ErrNameBidiIsolate", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\u2066伟\u2069" }, "mortgagors[0].name"},
		{"ErrNameZeroWidthSpace", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\u200b伟" }, "mortgagors[0].name"},
		{"ErrNameZeroWidthJoiner", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\u200d伟" }, "mortgagors[0].name"},
		{"ErrNameWordJoiner", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\u2060伟" }, "mortgagors[0].name"},
		{"ErrNameBOM", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\ufeff伟" }, "mortgagors[0].name"},
		{"ErrNameSoftHyphen", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\u00ad伟" }, "mortgagors[0].name"},
		{"ErrNameC1", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\u0085伟" }, "mortgagors[0].name"},
		{"ErrNameDEL", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\x7f伟" }, "mortgagors[0].name"},
		{"ErrNameNewline", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\n伟" }, "mortgagors[0].name"},
		{"ErrNameTab", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\t伟" }, "mortgagors[0].name"},
		{"ErrNameLineSeparator", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\u2028伟" }, "mortgagors[0].name"},
		{"ErrNameInvalidUTF8", func(a *mortgage.Application) { a.Mortgagors[0].Name = "张\xff伟" }, "mortgagors[0].name"},
		{"ErrMortgageeName", func(a *mortgage.Application) { a.Mortgagee.Name += "\u200e" }, "mortgagee.name"},
		{"ErrDebtorName", func(a *mortgage.Application) {
			a.Debtors = []mortgage.Party{a.Mortgagors[0]}
			a.Debtors[0].Name += "\x00"
		}, "debtors[0].name"},
		{"ErrRemarksNUL", func(a *mortgage.Application) { a.Remarks = "备注\x00" }, "remarks"},
		{"ErrRemarksBidi", func(a *mortgage.Application) { a.Remarks = "金额 \u202e00.000064" }, "remarks"},
		{"ErrRemarksLoneCR", func(a *mortgage.Application) { a.Remarks = "一\r二" }, "remarks"},
		{"ErrReviewRequestZeroWidth", func(a *mortgage.Application) { a.ReviewRequest = "请\u200b审核" }, "reviewRequest"},
		{"ErrScope", func(a *mortgage.Application) { a.Mortgage.Scope += "\u2067" }, "mortgage.scope"},
		{"ErrFileName", func(a *mortgage.Application) { a.Materials[0].FileName = "申请书\x00.pdf" }, "materials[0].fileName"},
		{"ErrTitleNumber", func(a *mortgage.Application) { a.Units[0].TitleCertificateNumber += "\u200b" }, "units[0].titleCertificateNumber"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := validGeneral()
			c.change(a)
			var got []string
			for _, i := range mortgage.Validate(a, rules) {
				if i.Code == code {
					got = append(got, i.Field)
					if i.Message == "" {
						t.Error("no message for people")
					}
				}
			}
			want := []string{}
			if c.field != "" {
				want = []string{c.field}
			}
			if !slices.Equal(append([]string{}, got...), want) {
				t.Errorf("%s at %v, want at %v", code, got, want)
			}
		})
	}
	t.Run("ErrReferenceNUL", func(t *testing.T) {
		a := validGeneral()
		a.Reference = "LJYH-\x00"
		is := mortgage.Validate(a, rules)
		if !slices.ContainsFunc(is, func(i mortgage.Issue) bool { return i.Field == "reference" && i.Code == code }) {
			t.Errorf("issues %+v", is)
		}
	})
	t.Run("ErrEveryFieldAtOnce", func(t *testing.T) {
		a := validGeneral()
		a.Mortgagors[0].Name += "\x00"
		a.Remarks = "\u202e"
		a.Mortgage.Scope += "\u200b"
		var n int
		for _, i := range mortgage.Validate(a, rules) {
			if i.Code == code {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d faults, want 3", n)
		}
	})
}

// TestSameName: a name composed or decomposed is one name.
func TestSameName(t *testing.T) {
	t.Parallel()
	if !mortgage.SameName("José", "Jose\u0301") {
		t.Error("NFC forms differ")
	}
	if mortgage.SameName("张伟", "张伟 ") || mortgage.SameName("张伟", strings.ToUpper("张伟x")) {
		t.Error("different names compare equal")
	}
}
