package xmlsafe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
)

// Codes of faults in an XML document as a whole or in its structure. They
// are stable: partners branch on them. xml_too_large maps to 413, every other
// code to 400.
const (
	CodeEmpty          mortgage.Code = "body_empty"               // nothing but whitespace
	CodeMalformed      mortgage.Code = "xml_malformed"            // not well-formed XML
	CodeDoctype        mortgage.Code = "xml_doctype_forbidden"    // a DOCTYPE or other <!…> declaration
	CodeTooDeep        mortgage.Code = "xml_too_deep"             // nesting deeper than MaxDepth
	CodeTooLarge       mortgage.Code = "xml_too_large"            // longer than MaxBytes, or more elements or attributes than allowed
	CodeValueTooLong   mortgage.Code = "xml_value_too_long"       // a text, attribute value or name past its cap
	CodeEncoding       mortgage.Code = "xml_encoding_unsupported" // a declared encoding other than UTF-8, GBK, GB2312, GB18030
	CodeWrongRoot      mortgage.Code = "xml_wrong_root"           // the root element or its namespace is not the format's
	CodeUnknownElement mortgage.Code = "xml_unknown_element"      // an element or attribute the format does not have
	CodeDuplicate      mortgage.Code = "xml_duplicate_element"    // an element that may appear once appears again
	CodeDuplicateAttr  mortgage.Code = "xml_duplicate_attribute"  // an attribute twice in one start tag: not well-formed
	CodeInvalidBytes   mortgage.Code = "xml_invalid_bytes"        // bytes that are no character in the declared encoding
	CodeWrongContent   mortgage.Code = "xml_wrong_content"        // child elements where text belongs, or text where only elements belong
)

// Error is a fault in an XML document: it is not one the format can read.
type Error struct {
	Code    mortgage.Code
	Field   string // the element path in the partner's terms, e.g. /application/units/unit[1]/foo; "" when the fault is in no one element
	Message string // Chinese, for people
	Line    int    // 1-based input line where the fault was found; 0 when unknown
	// Unacceptable marks a document that was read but cannot be accepted
	// (a batch file's header, count or total): 422 rather than 400.
	Unacceptable bool
}

// Fault is what the partner is told: 413 past a size cap, 422 for an
// unacceptable document, 400 for one that cannot be read; with the element
// at fault when there is one.
func (e *Error) Fault() *fault.Error {
	fe := &fault.Error{Kind: fault.Malformed, Code: e.Code, Detail: e.Message}
	switch {
	case e.Code == CodeTooLarge:
		fe.Kind = fault.TooLarge
	case e.Unacceptable:
		fe.Kind = fault.Invalid
	}
	if e.Field != "" {
		fe.Issues = []fault.Issue{{Field: e.Field, Code: e.Code, Message: e.Message}}
	}
	return fe
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("xml: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(string(e.Code))
	return b.String()
}

// Defaults for a request-sized document.
const (
	DefaultMaxBytes          = 32 << 20 // as the server's body limit
	DefaultMaxDepth          = 64
	DefaultMaxElements       = 20_000
	DefaultMaxAttrs          = 64 // per element
	DefaultMaxAttrBytes      = 8 << 10
	DefaultMaxTextBytes      = 64 << 10
	DefaultMaxLargeTextBytes = 15 << 20 // a 10 MB document in base64 is 13.4 MB, with line breaks 13.8 MB
	maxNameBytes             = 256
)

// Limits bound what a document may cost. A zero field takes its default.
type Limits struct {
	MaxBytes          int64 // whole document after conversion to UTF-8; negative means no limit (streams whose source is already bounded)
	MaxDepth          int
	MaxElements       int // in the whole document or stream
	MaxAttrs          int // per element
	MaxAttrBytes      int
	MaxTextBytes      int // per text node, comment or processing instruction
	MaxLargeTextBytes int // per text node of an element named in LargeText
	// LargeText names (local names, any namespace) the elements whose text
	// is a base64 document and may be up to MaxLargeTextBytes long.
	LargeText []string
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	def(&l.MaxDepth, DefaultMaxDepth)
	def(&l.MaxElements, DefaultMaxElements)
	def(&l.MaxAttrs, DefaultMaxAttrs)
	def(&l.MaxAttrBytes, DefaultMaxAttrBytes)
	def(&l.MaxTextBytes, DefaultMaxTextBytes)
	def(&l.MaxLargeTextBytes, DefaultMaxLargeTextBytes)
	return l
}

// Parse reads a whole document held in memory.
func Parse(body []byte, lim Limits) (*etree.Document, error) {
	return ParseReader(bytes.NewReader(body), lim)
}

// ParseReader reads a whole document from r. Errors from r itself (for
// example *http.MaxBytesError) are returned as they are.
func ParseReader(r io.Reader, lim Limits) (*etree.Document, error) {
	lim = lim.withDefaults()
	src, err := utf8Source(r)
	if err != nil {
		return nil, err
	}
	g := newGuard(src, lim)
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{
		CharsetReader: passThrough,
		Permissive:    false,
		MaxDepth:      lim.MaxDepth, // the guard refuses first; this is the second lock
		// No Entity map: only the predefined entities exist.
	}
	if _, err := doc.ReadFrom(g); err != nil {
		return nil, g.fault(err)
	}
	if err := g.finish(); err != nil {
		return nil, err
	}
	if doc.Root() == nil {
		return nil, g.noRoot()
	}
	return doc, nil
}

// passThrough is the CharsetReader: utf8Source has already converted the
// input to UTF-8, whatever the declaration still says.
func passThrough(_ string, r io.Reader) (io.Reader, error) { return r, nil }

// fault turns a parser error into an *Error; guard faults and reader errors
// pass through unchanged.
func (g *guard) fault(err error) error {
	if g.err != nil {
		return g.err // the parser may report the cut-off input instead: the guard's reason is the real one
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &se):
		return &Error{Code: CodeMalformed, Line: se.Line, Message: fmt.Sprintf("XML 格式错误（第 %d 行）：%s", se.Line, se.Msg)}
	case errors.Is(err, etree.ErrMaxDepth):
		return &Error{Code: CodeTooDeep, Line: g.line, Message: fmt.Sprintf("XML 元素嵌套超过 %d 层", g.lim.MaxDepth)}
	case errors.Is(err, etree.ErrXML), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Code: CodeMalformed, Line: g.line, Message: fmt.Sprintf("XML 格式错误（第 %d 行附近）：元素未正确闭合或文档不完整", g.line)}
	case g.readErr != nil && errors.Is(err, g.readErr):
		return err // the source failed: the caller knows what that means
	}
	return &Error{Code: CodeMalformed, Line: g.line, Message: "XML 格式错误：" + err.Error()}
}

// noRoot explains a document without a root element.
func (g *guard) noRoot() error {
	if g.n == 0 || g.onlySpace {
		return &Error{Code: CodeEmpty, Message: "请求体为空"}
	}
	return &Error{Code: CodeMalformed, Line: g.line, Message: "XML 文档没有根元素"}
}

// Text is an element's text: every character data child joined (comments
// skipped). It is an *Error for an element that has child elements, whose
// value therefore cannot be text; path names the element for that message.
func Text(el *etree.Element, path string) (string, error) {
	var b strings.Builder
	for _, t := range el.Child {
		switch c := t.(type) {
		case *etree.CharData:
			b.WriteString(c.Data)
		case *etree.Element:
			return "", &Error{Code: CodeWrongContent, Field: path + "/" + c.Tag,
				Message: fmt.Sprintf("元素 %s 的内容应为文字，不能包含子元素 %s", path, c.Tag)}
		}
	}
	return b.String(), nil
}

// HasText reports whether an element has character data other than
// whitespace: container elements must not.
func HasText(el *etree.Element) bool {
	for _, t := range el.Child {
		if c, ok := t.(*etree.CharData); ok && strings.TrimSpace(c.Data) != "" {
			return true
		}
	}
	return false
}

// XSINamespace is the XML Schema instance namespace: xsi:schemaLocation and
// friends are hints for validators and carry no content.
const XSINamespace = "http://www.w3.org/2001/XMLSchema-instance"

// Ignorable reports attributes that carry no content: namespace
// declarations and xsi:* hints.
func Ignorable(a etree.Attr) bool {
	if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
		return true
	}
	return a.Space != "" && a.NamespaceURI() == XSINamespace
}
