package xmlsafe_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"mortgaged/mortgage"
	"mortgaged/partners/xmlsafe"
)

// countingReader counts the bytes the parser pulled, to show a hostile
// document is refused after reading only its beginning.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// allocated is the heap allocated while f runs (runtime.MemStats.TotalAlloc
// delta): deterministic enough to bound, unlike wall-clock time.
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func wantCode(t *testing.T, err error, code mortgage.Code) *xmlsafe.Error {
	t.Helper()
	var e *xmlsafe.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want *xmlsafe.Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%s), want %s", e.Code, e.Message, code)
	}
	if e.Message == "" {
		t.Fatal("no message for people")
	}
	return e
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<application><reference>&lol9;</reference></application>`

const externalEntity = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE application [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<application><reference>&xxe;</reference></application>`

// hostile are the documents PROMISES S6 and issue 4 name, built once
// outside the measurements.
func hostile() []struct {
	name string
	body []byte
	code mortgage.Code
} {
	deep := strings.Repeat("<a>", 100_000) + strings.Repeat("</a>", 100_000)
	bigAttr := `<application reference="` + strings.Repeat("A", 10<<20) + `"/>`
	bigText := `<application><remarks>` + strings.Repeat("字", 4<<20) + `</remarks></application>`
	wide := "<a>" + strings.Repeat("<b/>", 1_000_000) + "</a>"
	var attrs strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&attrs, ` x%d="1"`, i)
	}
	manyAttrs := "<a" + attrs.String() + "/>"
	sameAttrs := "<a" + strings.Repeat(` x="1"`, 100_000) + "/>"
	longName := "<" + strings.Repeat("n", 1<<20) + "/>"
	comment := "<a><!--" + strings.Repeat("-x", 5<<20) + "--></a>"
	return []struct {
		name string
		body []byte
		code mortgage.Code
	}{
		{"BillionLaughs", []byte(billionLaughs), xmlsafe.CodeDoctype},
		{"ExternalEntity", []byte(externalEntity), xmlsafe.CodeDoctype},
		{"ExternalDTD", []byte(`<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>`), xmlsafe.CodeDoctype},
		{"ParameterEntity", []byte(`<!DOCTYPE a [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><a/>`), xmlsafe.CodeDoctype},
		{"DoctypeAfterComment", []byte(`<!-- x --><!DOCTYPE a><a/>`), xmlsafe.CodeDoctype},
		{"DeepNesting100000", []byte(deep), xmlsafe.CodeTooDeep},
		{"Attribute10MB", []byte(bigAttr), xmlsafe.CodeValueTooLong},
		{"Text12MB", []byte(bigText), xmlsafe.CodeValueTooLong},
		{"MillionElements", []byte(wide), xmlsafe.CodeTooLarge},
		{"HundredThousandAttributes", []byte(manyAttrs), xmlsafe.CodeTooLarge},
		{"HundredThousandSameAttributes", []byte(sameAttrs), xmlsafe.CodeDuplicateAttr},
		{"LongName", []byte(longName), xmlsafe.CodeValueTooLong},
		{"LongComment", []byte(comment), xmlsafe.CodeValueTooLong},
	}
}

// TestHostileRefusedWithBoundedMemory: every hostile document is refused
// with its code after reading little of it and allocating little, whatever
// its size (issue 4 item 7; PROMISES "XML and HTTP limits").
func TestHostileRefusedWithBoundedMemory(t *testing.T) {
	const maxRead = 128 << 10 // a cap of 64 KB and the reader's buffer
	for _, h := range hostile() {
		maxAlloc := uint64(1 << 20)
		if h.code == xmlsafe.CodeTooLarge {
			maxAlloc = 16 << 20 // the tree of DefaultMaxElements elements is built before the next one is refused
		}
		t.Run(h.name, func(t *testing.T) {
			var err error
			cr := &countingReader{r: bytes.NewReader(h.body)}
			alloc := allocated(func() { _, err = xmlsafe.ParseReader(cr, xmlsafe.Limits{}) })
			wantCode(t, err, h.code)
			t.Logf("%d-byte document: refused after reading %d bytes, %d bytes allocated", len(h.body), cr.n, alloc)
			if alloc > maxAlloc {
				t.Errorf("allocated %d bytes, want at most %d", alloc, maxAlloc)
			}
			if len(h.body) > maxRead && cr.n > maxRead {
				t.Errorf("read %d bytes before refusing, want at most %d", cr.n, maxRead)
			}

			// The streaming decoder refuses them the same way.
			cr = &countingReader{r: bytes.NewReader(h.body)}
			alloc = allocated(func() {
				var d *xmlsafe.Decoder
				d, err = xmlsafe.NewDecoder(cr, xmlsafe.Limits{})
				if err != nil {
					return
				}
				for err == nil {
					_, err = d.Token()
				}
			})
			wantCode(t, err, h.code)
			if alloc > maxAlloc {
				t.Errorf("streaming: allocated %d bytes, want at most %d", alloc, maxAlloc)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		body string
		lim  xmlsafe.Limits
		code mortgage.Code
	}{
		{"ErrTooLarge", `<a>` + strings.Repeat("x", 200) + `</a>`, xmlsafe.Limits{MaxBytes: 100}, xmlsafe.CodeTooLarge},
		{"ErrTooDeep", strings.Repeat("<a>", 4) + strings.Repeat("</a>", 4), xmlsafe.Limits{MaxDepth: 3}, xmlsafe.CodeTooDeep},
		{"ErrTooDeepEmptyElement", "<a><a><a/></a></a>", xmlsafe.Limits{MaxDepth: 2}, xmlsafe.CodeTooDeep},
		{"ErrTooManyElements", "<a><b/><b/><b/></a>", xmlsafe.Limits{MaxElements: 3}, xmlsafe.CodeTooLarge},
		{"ErrAttrTooLong", `<a b="12345"/>`, xmlsafe.Limits{MaxAttrBytes: 4}, xmlsafe.CodeValueTooLong},
		{"ErrAttrTooLongSingleQuotes", `<a b='12345'/>`, xmlsafe.Limits{MaxAttrBytes: 4}, xmlsafe.CodeValueTooLong},
		{"ErrTextTooLong", `<a>12345</a>`, xmlsafe.Limits{MaxTextBytes: 4}, xmlsafe.CodeValueTooLong},
		{"ErrCDATATooLong", `<a><![CDATA[12345]]></a>`, xmlsafe.Limits{MaxTextBytes: 4}, xmlsafe.CodeValueTooLong},
		{"ErrTextAroundCDATATooLong", `<a>12<![CDATA[3]]>45</a>`, xmlsafe.Limits{MaxTextBytes: 4}, xmlsafe.CodeValueTooLong},
		{"ErrLargeTextTooLong", `<a><content>123456789</content></a>`, xmlsafe.Limits{MaxTextBytes: 4, MaxLargeTextBytes: 8, LargeText: []string{"content"}}, xmlsafe.CodeValueTooLong},
		{"ErrLargeTextOnlyInItsElement", `<content><b>12345</b></content>`, xmlsafe.Limits{MaxTextBytes: 4, LargeText: []string{"content"}}, xmlsafe.CodeValueTooLong},
		{"ErrTooManyAttrs", `<a x="1" y="2" z="3"/>`, xmlsafe.Limits{MaxAttrs: 2}, xmlsafe.CodeTooLarge},
		{"ErrEmpty", ``, xmlsafe.Limits{}, xmlsafe.CodeEmpty},
		{"ErrBlank", " \r\n\t", xmlsafe.Limits{}, xmlsafe.CodeEmpty},
		{"ErrOnlyDeclaration", `<?xml version="1.0"?>`, xmlsafe.Limits{}, xmlsafe.CodeMalformed},
		{"ErrUnclosed", `<a><b></a>`, xmlsafe.Limits{}, xmlsafe.CodeMalformed},
		{"ErrTruncated", `<a><b>x</b>`, xmlsafe.Limits{}, xmlsafe.CodeMalformed},
		{"ErrNotXML", `{"reference": "x"}`, xmlsafe.Limits{}, xmlsafe.CodeMalformed},
		{"ErrTextAfterRoot", `<a/>x`, xmlsafe.Limits{}, xmlsafe.CodeMalformed},
		{"ErrTwoRoots", `<a/><b/>`, xmlsafe.Limits{}, xmlsafe.CodeMalformed},
		{"ErrUndefinedEntity", `<a>&nbsp;</a>`, xmlsafe.Limits{}, xmlsafe.CodeMalformed},
		{"ErrUnquotedAttribute", `<a b=1/>`, xmlsafe.Limits{}, xmlsafe.CodeMalformed},
		{"ErrEncoding", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, xmlsafe.Limits{}, xmlsafe.CodeEncoding},
		{"ErrInvalidUTF8", "<a>\xff\xfe</a>", xmlsafe.Limits{}, xmlsafe.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := xmlsafe.Parse([]byte(tt.body), tt.lim)
			wantCode(t, err, tt.code)
		})
	}
}

func TestParseAccepts(t *testing.T) {
	body := "\xef\xbb\xbf" + `<?xml version="1.0" encoding="utf-8"?>
<!-- a comment before the root -->
<a xmlns="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x x.xsd">
  <b k='v "quoted" &amp; &lt;'>x &amp; y &#x5F20;<![CDATA[<not a tag> ]] ]>]]></b>
  <?pi stays?>
  <c/><d x="-->"/><e>]]&gt;</e>
  <content>` + strings.Repeat("QUJD", 1<<18) + `</content>
</a>
`
	doc, err := xmlsafe.Parse([]byte(body), xmlsafe.Limits{LargeText: []string{"content"}})
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	if root.Tag != "a" || root.NamespaceURI() != "urn:x" {
		t.Fatalf("root %s in %q", root.Tag, root.NamespaceURI())
	}
	b := root.SelectElement("b")
	text, err := xmlsafe.Text(b, "/a/b")
	if err != nil {
		t.Fatal(err)
	}
	if want := "x & y 张<not a tag> ]] ]>"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	if v := b.SelectAttrValue("k", ""); v != `v "quoted" & <` {
		t.Errorf("attribute %q", v)
	}
	for _, a := range root.Attr {
		if !xmlsafe.Ignorable(a) {
			t.Errorf("attribute %s:%s should be ignorable", a.Space, a.Key)
		}
	}
	if _, err := xmlsafe.Text(root, "/a"); err == nil {
		t.Error("Text of an element with children should fail")
	}
	if got := len(root.SelectElement("content").Text()); got != 4<<18 {
		t.Errorf("large text has %d bytes", got)
	}
}

// TestGBK: Chinese core systems often write GBK; it is read as such.
func TestGBK(t *testing.T) {
	utf := `<?xml version="1.0" encoding="GBK"?><DYDJSQ><DYRMC>张伟</DYRMC><FJ>齐齐哈尔市龙沙区</FJ></DYDJSQ>`
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(utf)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsafe.Parse([]byte(gbk), xmlsafe.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Root().SelectElement("DYRMC").Text(); got != "张伟" {
		t.Errorf("got %q", got)
	}
	d, err := xmlsafe.NewDecoder(strings.NewReader(gbk), xmlsafe.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			texts = append(texts, string(cd))
		}
	}
	if strings.Join(texts, "|") != "张伟|齐齐哈尔市龙沙区" {
		t.Errorf("streamed %q", texts)
	}
}

func TestDecoderReadElement(t *testing.T) {
	body := `<batch xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><head n="2"/>` +
		`<rec xsi:type="x" i="1"><v>a</v><w><x>b</x></w></rec><!-- c --><rec i="2"><v>c &amp; d</v></rec></batch>`
	d, err := xmlsafe.NewDecoder(strings.NewReader(body), xmlsafe.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rec" {
			el, err := d.ReadElement(se, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(el.Attr) != 1 {
				t.Errorf("attributes %v: xsi:* should be dropped", el.Attr)
			}
			got = append(got, el.SelectAttrValue("i", "")+"="+el.FindElement("v").Text())
		}
	}
	if strings.Join(got, ",") != "1=a,2=c & d" {
		t.Errorf("got %v", got)
	}

	d, _ = xmlsafe.NewDecoder(strings.NewReader(`<b><rec><x/><x/><x/></rec></b>`), xmlsafe.Limits{})
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rec" {
			_, err := d.ReadElement(se, 3)
			wantCode(t, err, xmlsafe.CodeTooLarge)
			break
		}
	}

	d, _ = xmlsafe.NewDecoder(strings.NewReader(`<b><rec><x>`), xmlsafe.Limits{})
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rec" {
			_, err := d.ReadElement(se, 3)
			wantCode(t, err, xmlsafe.CodeMalformed)
			break
		}
	}
}

// TestStreamingUnlimitedBytes: a stream may be longer than MaxBytes allows a
// request when the caller lifts the cap; depth and value caps still hold.
func TestStreamingUnlimitedBytes(t *testing.T) {
	var b strings.Builder
	b.WriteString("<batch>")
	for range 50_000 {
		b.WriteString("<rec><v>0123456789</v></rec>")
	}
	b.WriteString("</batch>")
	d, err := xmlsafe.NewDecoder(strings.NewReader(b.String()), xmlsafe.Limits{MaxBytes: -1, MaxElements: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rec" {
			n++
		}
	}
	if n != 50_000 {
		t.Errorf("read %d records", n)
	}
}

// FuzzDecode: no input panics either reader, and both agree on whether a
// document is acceptable.
func FuzzDecode(f *testing.F) {
	for _, h := range hostile() {
		if len(h.body) < 4096 {
			f.Add(h.body)
		}
	}
	for _, s := range []string{
		``, `<a/>`, `<a><b>x</b></a>`, `<a><![CDATA[x]]></a>`, `<a><!-- --></a>`, `<?xml version="1.0"?><a/>`,
		`<a b="1" c='2'/>`, `<a>&amp;&#x41;</a>`, `<a/><b/>`, `<a>`, `</a>`, `<!-->`, `<a><![CDATA[`, `<a x="`,
		`<?xml version="1.0" encoding="GB18030"?><a>x</a>`, "<a>\xff</a>",
		`<a b="1" b="2"/>`, `<a><b p:c="1" q:c="2" xmlns:p="u" xmlns:q="v"/></a>`, `<a xmlns="u" xmlns:p="u" p:xmlns="1"/>`,
		"<?xml version=\"1.0\" encoding=\"GBK\"?><a>\xd5\xc5\x81\x20</a>", "<?xml version=\"1.0\" encoding=\"GBK\"?><a>\xd5",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		lim := xmlsafe.Limits{MaxDepth: 8, MaxElements: 100, MaxTextBytes: 64, MaxAttrBytes: 32}
		_, perr := xmlsafe.Parse(body, lim)
		if perr != nil {
			var e *xmlsafe.Error
			if !errors.As(perr, &e) || e.Code == "" || e.Message == "" {
				t.Fatalf("Parse: %v (%T)", perr, perr)
			}
		}
		d, err := xmlsafe.NewDecoder(bytes.NewReader(body), lim)
		for err == nil {
			_, err = d.Token()
		}
		if !errors.Is(err, io.EOF) {
			var e *xmlsafe.Error
			if !errors.As(err, &e) || e.Code == "" {
				t.Fatalf("Decoder: %v (%T)", err, err)
			}
		}
	})
}

// TestSourceErrorsPassThrough: a failing source (the server's body limit)
// is returned as it is, so the server answers 413 from its own error.
func TestSourceErrorsPassThrough(t *testing.T) {
	body := "<a>" + strings.Repeat("<b>x</b>", 10_000) + "</a>"
	limited := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(body)), 1000)
	_, err := xmlsafe.ParseReader(limited, xmlsafe.Limits{})
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		t.Errorf("got %v (%T), want *http.MaxBytesError", err, err)
	}
	d, err := xmlsafe.NewDecoder(http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(body)), 1000), xmlsafe.Limits{})
	for err == nil {
		_, err = d.Token()
	}
	if !errors.As(err, &mbe) {
		t.Errorf("streaming: got %v (%T), want *http.MaxBytesError", err, err)
	}
}

// TestDuplicateAttribute: an attribute twice in one start tag is not
// well-formed; neither value may win (PROMISES S7). The field names the
// element path and the attribute.
func TestDuplicateAttribute(t *testing.T) {
	tests := []struct{ name, body, field string }{
		{"Same", `<Req><Parties><Party role="A" role="B"/></Parties></Req>`, "/Req/Parties/Party/@role"},
		{"SecondSibling", `<Req><Party role="A"/><Party role="A" name="x" role="B">t</Party></Req>`, "/Req/Party[2]/@role"},
		{"Root", `<Req amount='1' amount="2"></Req>`, "/Req/@amount"},
		{"Prefixed", `<Req xmlns:p="urn:a" xmlns:q="urn:a"><Loan p:amountWan="56" q:amountWan="0.0001"/></Req>`, "/Req/Loan/@amountWan"},
		{"PrefixAndNone", `<Req xmlns:p="urn:a"><Loan amountWan="56" p:amountWan="0.0001"/></Req>`, "/Req/Loan/@amountWan"},
		{"Spaced", "<Req><Loan amountWan = \"56\"\n amountWan\t=\t'1'/></Req>", "/Req/Loan/@amountWan"},
	}
	for _, tt := range tests {
		t.Run("Err"+tt.name, func(t *testing.T) {
			_, err := xmlsafe.Parse([]byte(tt.body), xmlsafe.Limits{})
			if e := wantCode(t, err, xmlsafe.CodeDuplicateAttr); e.Field != tt.field {
				t.Errorf("Parse: field %q, want %q", e.Field, tt.field)
			}
			d, err := xmlsafe.NewDecoder(strings.NewReader(tt.body), xmlsafe.Limits{})
			for err == nil {
				_, err = d.Token()
			}
			if e := wantCode(t, err, xmlsafe.CodeDuplicateAttr); e.Field != tt.field {
				t.Errorf("Decoder: field %q, want %q", e.Field, tt.field)
			}
		})
	}
	for _, ok := range []string{
		`<Req xmlns="urn:a" xmlns:p="urn:b"><Party role="A" name="B"/><Party role="B"/></Req>`,
		`<Req a="1"><b a="1"/><b a="2"/></Req>`,
	} {
		if _, err := xmlsafe.Parse([]byte(ok), xmlsafe.Limits{}); err != nil {
			t.Errorf("OK %s: %v", ok, err)
		}
	}
}

// TestGBKInvalidBytes: bytes that are no character in GBK/GB18030 are
// refused with the line, not replaced with U+FFFD (a name with a broken
// byte would be registered as another name).
func TestGBKInvalidBytes(t *testing.T) {
	head := `<?xml version="1.0" encoding="GBK"?>` + "\n<DYDJSQ>\n<DYRMC>"
	name, err := simplifiedchinese.GBK.NewEncoder().String("张伟")
	if err != nil {
		t.Fatal(err)
	}
	for label, bad := range map[string]string{
		"LoneLead":    "\x81",     // a lead byte with no trail
		"BadTrail":    "\xd5\x7f", // 0x7F is no trail byte
		"FourByteBad": "\x81\x30\x81\x20",
		"Replacement": "\x84\x31\xa4\x37", // U+FFFD itself, encoded
	} {
		t.Run("Err"+label, func(t *testing.T) {
			body := head + name + bad + "</DYRMC>\n</DYDJSQ>"
			_, err := xmlsafe.Parse([]byte(body), xmlsafe.Limits{})
			if e := wantCode(t, err, xmlsafe.CodeInvalidBytes); e.Line != 3 {
				t.Errorf("line %d, want 3", e.Line)
			}
			d, err := xmlsafe.NewDecoder(strings.NewReader(body), xmlsafe.Limits{})
			for err == nil {
				_, err = d.Token()
			}
			wantCode(t, err, xmlsafe.CodeInvalidBytes)
		})
	}
	t.Run("ErrUTF8Invalid", func(t *testing.T) {
		_, err := xmlsafe.Parse([]byte("<DYDJSQ><DYRMC>张\xff伟</DYRMC></DYDJSQ>"), xmlsafe.Limits{})
		wantCode(t, err, xmlsafe.CodeMalformed)
	})
	t.Run("OKAtEveryBoundary", func(t *testing.T) {
		// Characters split across reads still decode.
		body := head + strings.Repeat(name, 3000) + "</DYRMC>\n</DYDJSQ>"
		doc, err := xmlsafe.ParseReader(&oneByteReader{strings.NewReader(body)}, xmlsafe.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Root().SelectElement("DYRMC").Text(); got != strings.Repeat("张伟", 3000) {
			t.Errorf("got %d runes", len([]rune(got)))
		}
	})
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
