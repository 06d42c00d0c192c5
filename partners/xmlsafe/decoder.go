package xmlsafe

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/beevik/etree"
)

// Decoder streams a document token by token under the same guard as Parse,
// for files too large to hold as one tree: read the outer structure with
// Token and each repeated element with ReadElement, so memory holds one
// element at a time.
type Decoder struct {
	g   *guard
	d   *xml.Decoder
	lim Limits
}

// NewDecoder starts reading r. An error here is an unsupported encoding or
// a failing source.
func NewDecoder(r io.Reader, lim Limits) (*Decoder, error) {
	lim = lim.withDefaults()
	src, err := utf8Source(r)
	if err != nil {
		return nil, err
	}
	g := newGuard(src, lim)
	d := xml.NewDecoder(g)
	d.Strict = true
	d.CharsetReader = passThrough
	return &Decoder{g: g, d: d, lim: lim}, nil
}

// Line is the input line the decoder has reached, for messages.
func (d *Decoder) Line() int { return d.g.line }

// Token returns the next token with namespaces resolved (Name.Space is the
// namespace URI). Comments, processing instructions and whitespace outside
// elements are returned too; callers skip what they do not need. At the
// end it returns io.EOF, or a *Error if the document ended early or had no
// root element.
func (d *Decoder) Token() (xml.Token, error) {
	t, err := d.d.Token()
	if err == nil {
		return t, nil
	}
	if errors.Is(err, io.EOF) {
		if d.g.err != nil {
			return nil, d.g.err
		}
		if d.g.elements == 0 {
			return nil, d.g.noRoot()
		}
		return nil, io.EOF
	}
	return nil, d.g.fault(err)
}

// ReadElement reads the rest of the element that start opened and returns
// it as a detached tree: tags and attribute keys are local names (namespace
// declarations and xsi:* attributes are dropped), text is kept as character
// data. maxElements bounds the elements in this one subtree.
func (d *Decoder) ReadElement(start xml.StartElement, maxElements int) (*etree.Element, error) {
	root := newElement(start)
	cur := root
	count := 1
	for {
		t, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &Error{Code: CodeMalformed, Line: d.g.line, Message: "XML 文档不完整：元素 " + start.Name.Local + " 没有结束"}
			}
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			count++
			if count > maxElements {
				return nil, &Error{Code: CodeTooLarge, Line: d.g.line,
					Message: fmt.Sprintf("元素 %s 中的子元素超过 %d 个（第 %d 行）", start.Name.Local, maxElements, d.g.line)}
			}
			child := newElement(t)
			cur.AddChild(child)
			cur = child
		case xml.EndElement:
			if cur == root {
				return root, nil
			}
			cur = cur.Parent()
		case xml.CharData:
			cur.CreateText(string(t))
		}
	}
}

func newElement(start xml.StartElement) *etree.Element {
	el := etree.NewElement(start.Name.Local)
	for _, a := range start.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") || a.Name.Space == XSINamespace {
			continue
		}
		el.CreateAttr(a.Name.Local, a.Value)
	}
	return el
}
