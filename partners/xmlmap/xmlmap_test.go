package xmlmap_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners/dialects"
	"mortgaged/partners/xmlmap"
	"mortgaged/partners/xmlsafe"
)

// sample reads a shipped sample and applies one textual edit.
func sample(t *testing.T, dialect, name, old, new string) []byte {
	t.Helper()
	s := string(readFile(t, samplePath(dialect, name+".request.xml")))
	if old != "" {
		if !strings.Contains(s, old) {
			t.Fatalf("%s/%s lacks %q", dialect, name, old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	return []byte(s)
}

func decodeOK(t *testing.T, d *xmlmap.Dialect, body []byte) (*mortgage.Application, mortgage.Issues) {
	t.Helper()
	a, is, err := d.Decode(body)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return a, is
}

// TestCodeNotInTable: a value the dialect's table lacks is one clear issue,
// on the canonical field, naming the partner's path and the choices.
func TestCodeNotInTable(t *testing.T) {
	tests := []struct {
		dialect, old, new, field, path, choice string
	}{
		{"pinyin-flat", "<DYRZJZL>1</DYRZJZL>", "<DYRZJZL>9</DYRZJZL>", "mortgagors[0].idType", "/DYDJSQ/DYR[1]/DYRZJZL", "1 居民身份证"},
		{"pinyin-flat", "<DJLX>100</DJLX>", "<DJLX>200</DJLX>", "type", "/DYDJSQ/DJLX + /DYDJSQ/DYFS", "100+1 首次登记·一般抵押"},
		{"pinyin-flat", "<CLLX>03</CLLX>", "<CLLX>3</CLLX>", "materials[2].kind", "/DYDJSQ/SQCL/CL[3]/CLLX", "03 抵押合同"},
		{"pinyin-flat", "<SFYDJZZR>0</SFYDJZZR>", "<SFYDJZZR>N</SFYDJZZR>", "mortgage.transferRestricted", "/DYDJSQ/SFYDJZZR", "0 否"},
		{"nested-attr", `certType="ID" certNo="230203198707210247">李静`, `certType="IDCARD" certNo="230203198707210247">李静`,
			"mortgagors[1].idType", "/MortgageRequest/Parties/Party[@role='MORTGAGOR'][2]/@certType", "ID 居民身份证"},
		{"nested-attr", `kind="LAND_HOUSE"`, `kind="HOUSE"`, "mortgage.collateralKind", "/MortgageRequest/Collateral/@kind", "LAND_HOUSE 土地和房屋"},
		{"nested-attr", `<Loan type="ORDINARY"`, `<Loan type="MORTGAGE"`, "type", "/MortgageRequest/@action + /MortgageRequest/Loan/@type", "CANCEL 注销"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect+"/"+tt.field, func(t *testing.T) {
			_, is := decodeOK(t, dialect(t, tt.dialect), sample(t, tt.dialect, "first-general", tt.old, tt.new))
			if len(is) != 1 || is[0].Field != tt.field || is[0].Code != xmlmap.CodeValueUnknown {
				t.Fatalf("got %+v, want one %s on %s", is, xmlmap.CodeValueUnknown, tt.field)
			}
			if !strings.Contains(is[0].Message, tt.path) || !strings.Contains(is[0].Message, tt.choice) {
				t.Errorf("message %q should name %s and offer %q", is[0].Message, tt.path, tt.choice)
			}
			if got := dialect(t, tt.dialect).PartnerPath(tt.field); !strings.HasPrefix(tt.path, got) {
				t.Errorf("PartnerPath(%s) = %s, want %s", tt.field, got, tt.path)
			}
		})
	}
}

// TestAmountsExact: 万元 with six decimals, yuan with two and integer fen
// are read exactly, with no float in between.
func TestAmountsExact(t *testing.T) {
	nested := dialect(t, "nested-attr")
	flat := dialect(t, "pinyin-flat")
	tests := []struct {
		d        *xmlmap.Dialect
		old, new string
		fen      int64
		ok       bool
	}{
		{nested, `amountWan="56.000000"`, `amountWan="46.000000"`, 46_000_000_00 / 100, true},
		{nested, `amountWan="56.000000"`, `amountWan="0.000001"`, 1, true},
		{nested, `amountWan="56.000000"`, `amountWan="46"`, 46_000_000, true},
		{nested, `amountWan="56.000000"`, `amountWan="46.5"`, 46_500_000, true},
		{nested, `amountWan="56.000000"`, `amountWan="12345.678901"`, 12_345_678_901, true},
		{nested, `amountWan="56.000000"`, `amountWan="0.0000001"`, 0, false},
		{nested, `amountWan="56.000000"`, `amountWan="4.6e1"`, 0, false},
		{nested, `amountWan="56.000000"`, `amountWan="1,000"`, 0, false},
		{nested, `amountWan="56.000000"`, `amountWan="-1"`, 0, false},
		{nested, `amountWan="56.000000"`, `amountWan="46."`, 0, false},
		{nested, `amountWan="56.000000"`, `amountWan="999999999999"`, 0, false},
		{flat, "<BDBZZQSE>560000.00", "<BDBZZQSE>0.29", 29, true},
		{flat, "<BDBZZQSE>560000.00", "<BDBZZQSE>1234567.89", 123456789, true},
		{flat, "<BDBZZQSE>560000.00", "<BDBZZQSE>560000.001", 0, false},
		{flat, "<BDBZZQSE>560000.00", "<BDBZZQSE>¥560000", 0, false},
	}
	for _, tt := range tests {
		name := tt.d.Name + "/" + tt.new
		t.Run(name, func(t *testing.T) {
			a, is := decodeOK(t, tt.d, sample(t, tt.d.Name, "first-general", tt.old, tt.new))
			switch {
			case tt.ok && (len(is) > 0 || a.Mortgage.PrincipalFen != tt.fen):
				t.Errorf("got %d fen, issues %+v; want %d fen", a.Mortgage.PrincipalFen, is, tt.fen)
			case !tt.ok && (len(is) != 1 || is[0].Code != mortgage.CodeAmountFormat || is[0].Field != "mortgage.principalAmount"):
				t.Errorf("got %+v, want one amount_format", is)
			}
		})
	}
}

// TestAmountUnitFen and the loader on a third structure: a minimal bank
// mapping written here, with integer fen and a constant type.
func TestAmountUnitFen(t *testing.T) {
	d, err := xmlmap.Parse([]byte(minimalMapping))
	if err != nil {
		t.Fatal(err)
	}
	a, is := decodeOK(t, d, []byte(`<Req><No>R-1</No><Fen>56000000</Fen><Day>2026年11月26日</Day></Req>`))
	if len(is) > 0 || a.Mortgage.PrincipalFen != 56_000_000 || a.Type != mortgage.FirstGeneral || a.Mortgage.DebtStart.String() != "2026-11-26" {
		t.Errorf("got %+v %+v, issues %+v", a, a.Mortgage, is)
	}
	_, is = decodeOK(t, d, []byte(`<Req><No>R-1</No><Fen>560000.00</Fen></Req>`))
	if len(is) != 1 || is[0].Code != mortgage.CodeAmountFormat {
		t.Errorf("fen with decimals: %+v", is)
	}
}

const minimalMapping = `{
  "format": "mortgaged-xml-dialect/1", "name": "minimal", "title": "测试",
  "request": {"root": "Req", "fields": [
    {"to": "reference", "from": "No"},
    {"to": "type", "const": "mortgage_first_general"},
    {"to": "mortgage.principalAmount", "from": "Fen", "amount": "fen"},
    {"to": "mortgage.debtStart", "from": "Day", "date": ["YYYY年MM月DD日"]}
  ]},
  "answers": {
    "decision": {"root": "Res", "fields": [{"to": "@no", "from": "reference"}]},
    "problem": {"root": "Err", "fields": [{"to": "@code", "from": "code"}]},
    "event": {"root": "Evt", "fields": [{"to": "@id", "from": "id"}, {"to": ".", "from": "decision"}]}
  }
}`

func TestDates(t *testing.T) {
	flat := dialect(t, "pinyin-flat")
	nested := dialect(t, "nested-attr")
	tests := []struct {
		d        *xmlmap.Dialect
		old, new string
		ok       bool
	}{
		{flat, "<ZWLXQSSJ>20261126", "<ZWLXQSSJ>2026-11-26", true},
		{flat, "<ZWLXQSSJ>20261126", "<ZWLXQSSJ>2026/11/26", false},
		{flat, "<ZWLXQSSJ>20261126", "<ZWLXQSSJ>20260230", false},
		{flat, "<ZWLXQSSJ>20261126", "<ZWLXQSSJ>2026112", false},
		{nested, `start="2026/11/26"`, `start="2026-11-26"`, true},
		{nested, `start="2026/11/26"`, `start="2026/1/26"`, false},
		{nested, `start="2026/11/26"`, `start="20261126"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.d.Name+"/"+tt.new, func(t *testing.T) {
			a, is := decodeOK(t, tt.d, sample(t, tt.d.Name, "first-general", tt.old, tt.new))
			if tt.ok {
				if len(is) > 0 || a.Mortgage.DebtStart.String() != "2026-11-26" {
					t.Errorf("got %s, issues %+v", a.Mortgage.DebtStart, is)
				}
				return
			}
			if len(is) != 1 || is[0].Code != mortgage.CodeDateFormat || is[0].Field != "mortgage.debtStart" {
				t.Errorf("got %+v, want one date_format", is)
			}
		})
	}
}

func TestStructureErrors(t *testing.T) {
	tests := []struct {
		dialect, old, new string
		code              mortgage.Code
		field             string
	}{
		{"pinyin-flat", "<FJ>", "<DKLL>3.1</DKLL><FJ>", xmlsafe.CodeUnknownElement, "/DYDJSQ/DKLL"},
		{"pinyin-flat", "<FJ>", "<fj>x</fj><FJ>", xmlsafe.CodeUnknownElement, "/DYDJSQ/fj"},
		{"pinyin-flat", "<FJ>", "<YWH>X-2</YWH><FJ>", xmlsafe.CodeDuplicate, "/DYDJSQ/YWH"},
		{"pinyin-flat", "<DYRZJH>230202198503120331</DYRZJH>", "<DYRZJH>230202198503120331</DYRZJH><DYRDH>13800000000</DYRDH>", xmlsafe.CodeUnknownElement, "/DYDJSQ/DYR[1]/DYRDH"},
		{"pinyin-flat", "<DYDJSQ>", `<DYDJSQ BBH="2">`, xmlsafe.CodeUnknownElement, "/DYDJSQ/@BBH"},
		{"pinyin-flat", "<SQCL>", "<SQCL>材料", xmlsafe.CodeWrongContent, "/DYDJSQ/SQCL"},
		{"pinyin-flat", "<FJ>", "<FJ><B>x</B>", xmlsafe.CodeWrongContent, "/DYDJSQ/FJ/B"},
		{"pinyin-flat", "<DYDJSQ>", `<DYDJSQ xmlns="urn:bank">`, xmlsafe.CodeWrongRoot, "/DYDJSQ"},
		{"nested-attr", `<Party role="AGENT"`, `<Party role="GUARANTOR" certType="ID" certNo="1">x</Party><Party role="AGENT"`, xmlsafe.CodeUnknownElement, "/MortgageRequest/Parties/Party[6]"},
		{"nested-attr", `<Unit no=`, `<Unit floor="5" no=`, xmlsafe.CodeUnknownElement, "/MortgageRequest/Collateral/Unit/@floor"},
		{"nested-attr", `<Party role="AGENT"`, `<Party role="MORTGAGEE" certType="USCC" certNo="1">x</Party><Party role="AGENT"`, xmlsafe.CodeDuplicate, "/MortgageRequest/Parties/Party[@role='MORTGAGEE']"},
		{"nested-attr", `<Remarks>`, `<Remarks><b>!</b>`, xmlsafe.CodeWrongContent, "/MortgageRequest/Remarks/b"},
		{"nested-attr", `<MortgageRequest `, `<MortgageRequest xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="x.xsd" x="1" `, xmlsafe.CodeUnknownElement, "/MortgageRequest/@x"},
		// What a bundle says is what gets registered (PROMISES S7): never
		// the last (or first) of two values.
		{"nested-attr", `amountWan="56.000000"`, `amountWan="56.000000" amountWan="0.000001"`, xmlsafe.CodeDuplicateAttr, "/MortgageRequest/Loan/@amountWan"},
		{"nested-attr", `<MortgageRequest bizNo=`, `<MortgageRequest xmlns:b="urn:x" b:action="CANCEL" bizNo=`, xmlsafe.CodeDuplicateAttr, "/MortgageRequest/@action"},
		{"nested-attr", `<Party role="MORTGAGEE"`, `<Party role="MORTGAGEE" role="MORTGAGOR"`, xmlsafe.CodeDuplicateAttr, "/MortgageRequest/Parties/Party[3]/@role"},
		{"nested-attr", `<Loan `, `<Loan amountWan="0.000001" `, xmlsafe.CodeDuplicateAttr, "/MortgageRequest/Loan/@amountWan"},
		{"nested-attr", `  <Remarks>`, `  <Loan amountWan="0.000001"/><Remarks>`, xmlsafe.CodeDuplicate, "/MortgageRequest/Loan"},
		{"nested-attr", `<MortgageRequest `, `<!DOCTYPE MortgageRequest [<!ENTITY x SYSTEM "file:///etc/passwd">]><MortgageRequest `, xmlsafe.CodeDoctype, ""},
	}
	for _, tt := range tests {
		t.Run(tt.dialect+"/"+tt.field, func(t *testing.T) {
			a, is, err := dialect(t, tt.dialect).Decode(sample(t, tt.dialect, "first-general", tt.old, tt.new))
			var e *xmlsafe.Error
			if !errors.As(err, &e) {
				t.Fatalf("got app=%v issues=%+v err=%v, want an *xmlsafe.Error", a != nil, is, err)
			}
			if e.Code != tt.code || e.Field != tt.field || e.Message == "" {
				t.Errorf("got %s at %q (%s), want %s at %q", e.Code, e.Field, e.Message, tt.code, tt.field)
			}
		})
	}

	// A document in another dialect is the wrong root, not a pile of unknowns.
	_, _, err := dialect(t, "nested-attr").Decode(readFile(t, samplePath("pinyin-flat", "first-general.request.xml")))
	var e *xmlsafe.Error
	if !errors.As(err, &e) || e.Code != xmlsafe.CodeWrongRoot {
		t.Errorf("got %v, want xml_wrong_root", err)
	}
}

// TestIgnoreUnknown: a dialect may choose to ignore what it does not map.
func TestIgnoreUnknown(t *testing.T) {
	d, err := xmlmap.Parse([]byte(strings.Replace(minimalMapping, `"root": "Req",`, `"root": "Req", "unknown": "ignore",`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	a, is := decodeOK(t, d, []byte(`<Req x="1"><No>R-1</No><Rate>3.1</Rate>text</Req>`))
	if a.Reference != "R-1" || len(is) > 0 {
		t.Errorf("got %+v %+v", a, is)
	}
}

func TestPartnerPath(t *testing.T) {
	flat, nested := dialect(t, "pinyin-flat"), dialect(t, "nested-attr")
	tests := []struct {
		d         *xmlmap.Dialect
		canonical string
		want      string
	}{
		{flat, "reference", "/DYDJSQ/YWH"},
		{flat, "type", "/DYDJSQ/DJLX"},
		{flat, "units", "/DYDJSQ/BDCDYH"},
		{flat, "units[1]", "/DYDJSQ/BDCDYH[2]"},
		{flat, "units[1].titleCertificateNumber", "/DYDJSQ/BDCQZH[2]"},
		{flat, "mortgagors", "/DYDJSQ/DYR"},
		{flat, "mortgagors[1].idNumber", "/DYDJSQ/DYR[2]/DYRZJH"},
		{flat, "mortgagee.idNumber", "/DYDJSQ/DYQRZJH"},
		{flat, "mortgage", "/DYDJSQ"},
		{flat, "mortgage.principalAmount", "/DYDJSQ/BDBZZQSE"},
		{flat, "materials[0].content", "/DYDJSQ/SQCL/CL[1]/WJNR"},
		{flat, "materials", "/DYDJSQ/SQCL/CL"},
		{flat, "", "/DYDJSQ"},
		{flat, "/DYDJSQ/X", "/DYDJSQ/X"},
		{nested, "reference", "/MortgageRequest/@bizNo"},
		{nested, "units[0].unitNumber", "/MortgageRequest/Collateral/Unit[1]/@no"},
		{nested, "mortgagors[0].name", "/MortgageRequest/Parties/Party[@role='MORTGAGOR'][1]"},
		{nested, "debtors[1].idType", "/MortgageRequest/Parties/Party[@role='DEBTOR'][2]/@certType"},
		{nested, "mortgagee", "/MortgageRequest/Parties/Party[@role='MORTGAGEE']"},
		{nested, "agent.idNumber", "/MortgageRequest/Parties/Party[@role='AGENT']/@certNo"},
		{nested, "mortgage", "/MortgageRequest"},
		{nested, "mortgage.debtEnd", "/MortgageRequest/Loan/@end"},
		{nested, "mortgage.scope", "/MortgageRequest/Loan/Scope"},
		{nested, "cancellation", "/MortgageRequest/Cancel"},
		{nested, "materials[2].content", "/MortgageRequest/Attachments/File[3]"},
		{nested, "materials[2].sha256", "/MortgageRequest/Attachments/File[3]/@sha256"},
	}
	for _, tt := range tests {
		if got := tt.d.PartnerPath(tt.canonical); got != tt.want {
			t.Errorf("%s: PartnerPath(%q) = %q, want %q", tt.d.Name, tt.canonical, got, tt.want)
		}
	}
}

// TestMappingErrors: a broken mapping file is refused at load, with a
// message that names the mistake.
func TestMappingErrors(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(minimalMapping, old) {
			t.Fatalf("minimal mapping lacks %q", old)
		}
		return strings.Replace(minimalMapping, old, new, 1)
	}
	tests := map[string]struct{ file, want string }{
		"unknown member":         {edit(`"title": "测试",`, `"title": "测试", "titel": "x",`), "unknown field"},
		"wrong format":           {edit(`dialect/1`, `dialect/2`), "format"},
		"unknown target":         {edit(`{"to": "reference", "from": "No"}`, `{"to": "ref", "from": "No"}`), "not a canonical field"},
		"no reference":           {edit(`{"to": "reference", "from": "No"},`, ``), "reference and type"},
		"twice":                  {edit(`{"to": "reference", "from": "No"},`, `{"to": "reference", "from": "No"}, {"to": "reference", "from": "N2"},`), "twice"},
		"bad path":               {edit(`"from": "No"`, `"from": "No//X"`), "bad step"},
		"amount without unit":    {edit(`"amount": "fen"`, `"amount": "jiao"`), "yuan, wan or fen"},
		"date without layout":    {edit(`"date": ["YYYY年MM月DD日"]`, `"date": []`), "layout"},
		"date with a typo":       {edit(`YYYY年MM月DD日`, `YYYY-MM-DDD`), "unexpected"},
		"missing code table":     {edit(`{"to": "reference", "from": "No"}`, `{"to": "reference", "from": "No", "codes": "refs"}`), "no code table"},
		"joined without codes":   {edit(`{"to": "reference", "from": "No"}`, `{"to": "reference", "from": ["No", "No2"]}`), "codes is required"},
		"unknown group member":   {edit(`{"to": "reference", "from": "No"},`, `{"to": "reference", "from": "No"}, {"to": "units[]", "each": "U", "fields": [{"to": "floor", "from": "@f"}]},`), "not a member"},
		"unknown answer value":   {edit(`"from": "code"`, `"from": "colour"`), "not a problem value"},
		"time on a non-time":     {edit(`{"to": "@no", "from": "reference"}`, `{"to": "@no", "from": "reference", "time": "YYYYMMDD"}`), "times only"},
		"predicate in an answer": {edit(`{"to": "@no", "from": "reference"}`, `{"to": "A[@x='1']/@no", "from": "reference"}`), "predicates"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := xmlmap.Parse([]byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}

	// The file name must be the dialect's name.
	if _, err := xmlmap.Load(fstest.MapFS{"other.json": {Data: []byte(minimalMapping)}}); err == nil {
		t.Error("a file named other.json defining dialect minimal should be refused")
	}
	if _, err := xmlmap.Load(fstest.MapFS{"minimal.json": {Data: []byte(minimalMapping)}}); err != nil {
		t.Error(err)
	}
	// A bank dialect must say how to answer.
	noProblem := edit(`"problem": {"root": "Err", "fields": [{"to": "@code", "from": "code"}]},`, ``)
	if _, err := xmlmap.Load(fstest.MapFS{"minimal.json": {Data: []byte(noProblem)}}); err == nil || !strings.Contains(err.Error(), "answers.problem") {
		t.Errorf("a dialect without a problem template: %v", err)
	}
	d, err := xmlmap.Parse([]byte(noProblem))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.EncodeProblem(fault.Problem{Code: "x"}); err == nil {
		t.Error("EncodeProblem without a template should fail")
	}
}

// FuzzDecode: no body takes a dialect decoder down (PROMISES S6); faults
// are well-formed; every issue's field maps into the partner's document;
// whatever decodes can be written back in the dialect and read again.
//
//	go test ./partners/xmlmap -run '^$' -fuzz FuzzDecode -fuzztime 1m
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(xmlExamples, "*", "*.request.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no dialect samples (%v)", err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	for _, s := range []string{
		``, `<DYDJSQ/>`, `<MortgageRequest/>`, `<DYDJSQ><DJLX>100</DJLX><DYFS>3</DYFS><BDCQZH>x</BDCQZH></DYDJSQ>`,
		`<MortgageRequest action="CANCEL" bizNo=""><Loan amountWan="1e3" start="x"/><Parties><Party role="MORTGAGOR"/></Parties></MortgageRequest>`,
		`<DYDJSQ><SQCL><CL><WJNR>@@</WJNR></CL><CL/></SQCL><DYR/><DYR><DYRMC><x/></DYRMC></DYR></DYDJSQ>`,
		`<MortgageRequest action="REGISTER" action="CANCEL"><Loan amountWan="56" amountWan="0.0001"/></MortgageRequest>`,
		`<MortgageRequest xmlns:p="urn:x" action="REGISTER" p:action="CANCEL"/>`,
		"<?xml version=\"1.0\" encoding=\"GBK\"?><DYDJSQ><DYRMC>\xd5\x7f</DYRMC></DYDJSQ>",
		`<DYDJSQ><BDBZZQSE>460000</BDBZZQSE><BDBZZQSE>1</BDBZZQSE></DYDJSQ>`,
	} {
		f.Add([]byte(s))
	}
	set, err := xmlmap.Load(dialects.Files)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, name := range set.Names() {
			d, _ := set.Dialect(name)
			a, is, err := d.Decode(body)
			if err != nil {
				var e *xmlsafe.Error
				if !errors.As(err, &e) || a != nil || is != nil || e.Code == "" || e.Message == "" {
					t.Fatalf("%s: bad error %v (%T)", name, err, err)
				}
				continue
			}
			for _, i := range append(is, mortgage.Validate(a, exampleRules)...) {
				if p := d.PartnerPath(i.Field); !strings.HasPrefix(p, "/"+rootOf(name)) {
					t.Fatalf("%s: %s maps to %q", name, i.Field, p)
				}
			}
			enc, err := d.EncodeApplication(a)
			if err != nil {
				continue // a value with no code in the table cannot be written back; fine
			}
			if _, _, err := d.Decode(enc); err != nil {
				t.Fatalf("%s: re-decoding our own encoding: %v\n%s", name, err, enc)
			}
		}
	})
}

func rootOf(dialect string) string {
	return map[string]string{"pinyin-flat": "DYDJSQ", "nested-attr": "MortgageRequest"}[dialect]
}
