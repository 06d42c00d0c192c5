package centrejson_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
)

func TestDecodeSyntaxErrors(t *testing.T) {
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	tests := []struct {
		name  string
		body  string
		code  mortgage.Code
		field string
	}{
		{"ErrMalformed", `{"reference": }`, centrejson.CodeMalformed, "reference"},
		{"ErrMalformedSingleQuotes", `{'reference': 'a'}`, centrejson.CodeMalformed, ""},
		{"ErrTruncated", `{"reference": "LJYH-1", "units": [`, centrejson.CodeMalformed, ""},
		{"ErrTruncatedString", `{"reference": "LJYH`, centrejson.CodeMalformed, ""},
		{"ErrWrongTypeUnits", `{"units": "x"}`, centrejson.CodeWrongType, "units"},
		{"ErrWrongTypeNested", `{"mortgage": {"transferRestricted": "yes"}}`, centrejson.CodeWrongType, "mortgage.transferRestricted"},
		{"ErrWrongTypeInArray", `{"materials": [{"content": 5}]}`, centrejson.CodeWrongType, "materials[0].content"},
		{"ErrWrongTypeNumberForString", `{"reference": 12345}`, centrejson.CodeWrongType, "reference"},
		{"ErrWrongTypeTopLevelArray", `[]`, centrejson.CodeWrongType, ""},
		{"ErrWrongTypeTopLevelString", `"LJYH-1"`, centrejson.CodeWrongType, ""},
		{"ErrUnknownField", `{"foo": 1}`, centrejson.CodeUnknownField, "foo"},
		{"ErrUnknownFieldAfterKnown", `{"reference": "LJYH-1", "loanRate": "3.1"}`, centrejson.CodeUnknownField, "loanRate"},
		{"ErrTrailingObject", `{} {}`, centrejson.CodeTrailing, ""},
		{"ErrTrailingGarbage", `{"reference": "LJYH-1"} x`, centrejson.CodeTrailing, ""},
		{"ErrTrailingBrace", `{}}`, centrejson.CodeTrailing, ""},
		{"ErrEmpty", ``, centrejson.CodeEmpty, ""},
		{"ErrBlank", " \r\n\t ", centrejson.CodeEmpty, ""},
		{"ErrTooDeep", deep, centrejson.CodeMalformed, ""},
		{"ErrTooDeepInField", `{"units": ` + deep + `}`, centrejson.CodeWrongType, "units[0]"},
		// What a bundle says is what gets registered (PROMISES S7): one
		// name, one value, exactly as the format spells it.
		{"ErrDuplicateKey", `{"reference": "LJYH-1", "reference": "LJYH-2"}`, centrejson.CodeDuplicateKey, "reference"},
		{"ErrDuplicateKeyEscaped", `{"mortgage": {"principalAmount": "460000.00", "principal\u0041mount": "1.00"}}`, centrejson.CodeDuplicateKey, "mortgage.principalAmount"},
		{"ErrDuplicateKeyNested", `{"mortgage": {"principalAmount": "460000.00", "principalAmount": "1.00"}}`, centrejson.CodeDuplicateKey, "mortgage.principalAmount"},
		{"ErrDuplicateKeyInArray", `{"materials": [{}, {"kind": "a", "kind": "b"}]}`, centrejson.CodeDuplicateKey, "materials[1].kind"},
		{"ErrDuplicateKeyInRaw", `{"mortgage": {"principalAmount": {"a": 1, "a": 2}}}`, centrejson.CodeDuplicateKey, "mortgage.principalAmount.a"},
		{"ErrCaseVariantKey", `{"mortgage": {"principalAmount": "460000.00", "PRINCIPALAMOUNT": "1.00"}}`, centrejson.CodeUnknownField, "mortgage.PRINCIPALAMOUNT"},
		{"ErrCaseVariantOnly", `{"Reference": "LJYH-1"}`, centrejson.CodeUnknownField, "Reference"},
		{"ErrInvalidUTF8", "{\"reference\": \"LJYH-\xff\"}", centrejson.CodeMalformed, "reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, issues, err := centrejson.Decode([]byte(tt.body))
			var se *centrejson.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got app=%v issues=%v err=%v, want a SyntaxError", app != nil, issues, err)
			}
			if app != nil || issues != nil {
				t.Errorf("a syntax error should come alone, got app=%v issues=%v", app != nil, issues)
			}
			if se.Code != tt.code || se.Field != tt.field {
				t.Errorf("got %s at %q, want %s at %q", se.Code, se.Field, tt.code, tt.field)
			}
			if se.Message == "" {
				t.Error("no message for people")
			}
		})
	}
}

// TestDecodeNotAnObject: a body that is valid JSON but no application must
// still be refused, either as a syntax error or by validation.
func TestDecodeNotAnObject(t *testing.T) {
	for _, body := range []string{`null`, `{}`, `{"reference": null, "units": null, "mortgage": null}`} {
		app, issues, err := centrejson.Decode([]byte(body))
		if err != nil {
			continue
		}
		if len(issues) == 0 && len(mortgage.Validate(app, exampleRules)) == 0 {
			t.Errorf("%s is accepted", body)
		}
	}
}

// minimal wraps a mortgage object in an otherwise empty application.
func minimal(mortgageJSON, materialsJSON string) string {
	return `{"reference": "LJYH-1", "type": "mortgage_first_general", "mortgage": ` + mortgageJSON + `, "materials": ` + materialsJSON + `}`
}

func TestDecodeValueIssues(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string
		code  mortgage.Code
	}{
		{"ErrAmountThousandsSeparator", minimal(`{"principalAmount": "12,000"}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountExponent", minimal(`{"principalAmount": 1e5}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountExponentString", minimal(`{"principalAmount": "1e5"}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountNegative", minimal(`{"principalAmount": -5}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountThreeDecimals", minimal(`{"principalAmount": "1.234"}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountYuanSign", minimal(`{"principalAmount": "¥500000"}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountSpaces", minimal(`{"principalAmount": " 500000 "}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountEmptyString", minimal(`{"principalAmount": ""}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountBoolean", minimal(`{"principalAmount": true}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountObject", minimal(`{"principalAmount": {"yuan": 5}}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrAmountFourteenDigits", minimal(`{"principalAmount": "12345678901234"}`, `[]`), "mortgage.principalAmount", mortgage.CodeAmountFormat},
		{"ErrMaximumAmount", minimal(`{"maximumAmount": "三百万"}`, `[]`), "mortgage.maximumAmount", mortgage.CodeAmountFormat},
		{"ErrDateSlashes", minimal(`{"debtStart": "2026/01/01"}`, `[]`), "mortgage.debtStart", mortgage.CodeDateFormat},
		{"ErrDateNotInCalendar", minimal(`{"debtEnd": "2046-02-30"}`, `[]`), "mortgage.debtEnd", mortgage.CodeDateFormat},
		{"ErrDateWithTime", minimal(`{"debtEnd": "2046-11-25T00:00:00Z"}`, `[]`), "mortgage.debtEnd", mortgage.CodeDateFormat},
		{"ErrDateShortMonth", minimal(`{"debtStart": "2026-1-01"}`, `[]`), "mortgage.debtStart", mortgage.CodeDateFormat},
		{"ErrBase64", minimal(`{}`, `[{"kind": "other", "content": "not base64!"}]`), "materials[0].content", mortgage.Code(centrejson.CodeBase64)},
		{"ErrBase64URLAlphabet", minimal(`{}`, `[{"content": "JVBERi0x"}, {"content": "_-_-"}]`), "materials[1].content", centrejson.CodeBase64},
		{"ErrBase64Unpadded", minimal(`{}`, `[{"content": "JVBERi0xLg"}]`), "materials[0].content", centrejson.CodeBase64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, issues, err := centrejson.Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if app == nil {
				t.Fatal("no application returned with value issues")
			}
			if len(issues) != 1 || issues[0].Field != tt.field || issues[0].Code != tt.code || issues[0].Message == "" {
				t.Errorf("got %+v, want one %s at %s", issues, tt.code, tt.field)
			}
		})
	}
}

func TestDecodeAmountsExactly(t *testing.T) {
	tests := []struct {
		raw string
		fen int64
	}{
		{`500000.10`, 50000010},
		{`"500000.10"`, 50000010},
		{`"0.1"`, 10},
		{`0.1`, 10},
		{`"0.01"`, 1},
		{`0.29`, 29}, // 0.29 is 0.28999… as a float64
		{`"1500000"`, 150000000},
		{`1500000`, 150000000},
		{`"1500000.5"`, 150000050},
		{`"9999999999999.99"`, 999999999999999},
		{`1234567.89`, 123456789}, // 123456788.99… through float64
		{`null`, 0},
		{`"\u0035\u0030"`, 5000}, // escapes are read as the string they spell
	}
	for _, tt := range tests {
		app, issues, err := centrejson.Decode([]byte(minimal(`{"principalAmount": `+tt.raw+`, "maximumAmount": `+tt.raw+`}`, `[]`)))
		if err != nil || len(issues) > 0 {
			t.Errorf("%s: err=%v issues=%v", tt.raw, err, issues)
			continue
		}
		if got := app.Mortgage.PrincipalFen; got != tt.fen {
			t.Errorf("principalAmount %s = %d fen, want %d", tt.raw, got, tt.fen)
		}
		if got := app.Mortgage.MaximumFen; got != tt.fen {
			t.Errorf("maximumAmount %s = %d fen, want %d", tt.raw, got, tt.fen)
		}
	}
}

func TestDecodeIdentifiers(t *testing.T) {
	body := `{
		"reference": "LJYH-1", "type": "mortgage_first_general",
		"units": [{"unitNumber": " 230202001001GB00023F00010502 ", "titleCertificateNumber": " 黑(2021)齐齐哈尔市不动产权第0012345号\n"}],
		"mortgagors": [{"name": " 张伟 ", "idType": "1", "idNumber": "11010519491231002x"}],
		"debtors": [{"name": "王磊", "idType": "3", "idNumber": " e12345678 "}],
		"mortgagee": {"name": "龙江示范银行股份有限公司齐齐哈尔分行", "idType": "7", "idNumber": "91230200ma1bank01q"},
		"agent": {"name": "李静", "idType": "1", "idNumber": " 230203198707210247"},
		"cancellation": {"certificateNumber": " 黑(2019)齐齐哈尔市不动产证明第0008812号 ", "reason": "主债权已全部清偿"},
		"materials": []
	}`
	app, issues, err := centrejson.Decode([]byte(body))
	if err != nil || len(issues) > 0 {
		t.Fatalf("err=%v issues=%v", err, issues)
	}
	checks := []struct{ what, got, want string }{
		{"resident id with lower-case x", app.Mortgagors[0].IDNumber, "11010519491231002X"},
		{"name", app.Mortgagors[0].Name, "张伟"},
		{"credit code in lower case", app.Mortgagee.IDNumber, "91230200MA1BANK01Q"},
		{"passport keeps its case", app.Debtors[0].IDNumber, "e12345678"},
		{"agent id", app.Agent.IDNumber, "230203198707210247"},
		{"unit number", app.Units[0].UnitNumber, "230202001001GB00023F00010502"},
		{"title certificate", app.Units[0].TitleCertificateNumber, "黑(2021)齐齐哈尔市不动产权第0012345号"},
		{"registration certificate", app.Cancellation.CertificateNumber, "黑(2019)齐齐哈尔市不动产证明第0008812号"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if is := mortgage.Validate(app, mortgage.Rules{Today: exampleToday}); hasField(is, "mortgagors[0].idNumber") {
		t.Errorf("the upper-cased resident id should validate: %+v", is)
	}
}

func hasField(is mortgage.Issues, field string) bool {
	for _, i := range is {
		if i.Field == field {
			return true
		}
	}
	return false
}

func TestDecodeMaterials(t *testing.T) {
	app, issues, err := centrejson.Decode(example(t, "first-general.request.json"))
	if err != nil || len(issues) > 0 {
		t.Fatalf("err=%v issues=%v", err, issues)
	}
	if len(app.Materials) != 4 {
		t.Fatalf("got %d materials, want 4", len(app.Materials))
	}
	for _, m := range app.Materials {
		if !strings.HasPrefix(string(m.Content), "%PDF-") {
			t.Errorf("%s: content is not the PDF", m.Kind)
		}
	}
}

// TestEventGolden: the JSON v1 events partners receive, byte for byte, in
// testdata (rewritten with -update).
func TestEventGolden(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 11, 26, 9, 41, 7, 0, loc)
	d := &mortgage.Decision{BundleID: "bk3q7mzt4xw2ha5cd", Reference: "LJYH-DY-20261126-0001", Type: mortgage.FirstGeneral,
		Status: mortgage.StatusRegistered, ReceivedAt: at, DecidedAt: at, Reasons: mortgage.Issues{},
		Registration: &mortgage.Registration{CertificateNumber: "黑(2026)齐齐哈尔市不动产证明第0000001号", RegisteredAt: at, RecordingOfficer: "自动登簿",
			Ranks: []mortgage.UnitRank{{UnitNumber: "230202001001GB00023F00010502", Rank: 1}}},
		Fee: &mortgage.Fee{AmountFen: 80_00, Payer: "mortgagee", Basis: mortgage.FeeBasisResidential}}
	cert := &mortgage.IssuedCertificate{Number: "黑(2026)齐齐哈尔市不动产证明第0000001号", VerificationCode: "7KQ2M9XDPA", Status: "valid",
		KeyID: "k2026-1a4768ff", JSON: []byte(`{"number":"黑(2026)齐齐哈尔市不动产证明第0000001号"}`), JSONSignature: []byte{1, 2, 3, 4}}
	for _, e := range []mortgage.Event{
		{ID: "evt_0123456789abcdef01234567", Type: mortgage.EventRegistered, OccurredAt: at, Decision: d, Certificate: cert},
		{ID: "evt_1123456789abcdef01234567", Type: mortgage.EventRejected, OccurredAt: at, Decision: &mortgage.Decision{
			BundleID: "bt5ka3xg7mc2rd6pw", Reference: "LJYH-DY-20261126-0004", Type: mortgage.FirstGeneral, Status: mortgage.StatusRejected,
			ReceivedAt: at, DecidedAt: at, Reasons: mortgage.Issues{{Field: "units[0].unitNumber", Code: mortgage.CodeUnitSeized, Message: "该不动产已被查封，不能办理抵押登记"}}}},
	} {
		got, err := centrejson.EncodeEvent(e, loc)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "event-"+strings.ReplaceAll(string(e.Type), ".", "-")+".golden.json")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the code writes (run with -update after a deliberate change):\n%s", path, got)
		}
	}
}
