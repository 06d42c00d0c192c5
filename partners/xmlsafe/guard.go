package xmlsafe

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"mortgaged/mortgage"
)

// lexState is where the guard stands in the raw input.
type lexState uint8

const (
	stText      lexState = iota // character data, or whitespace outside the root
	stLt                        // just after '<'
	stStartName                 // in a start tag's name
	stInTag                     // in a start tag, between attributes
	stAttrValue                 // in a quoted attribute value
	stSlash                     // after '/' in a start tag: '>' closes an empty element
	stEndTag                    // in an end tag
	stBang                      // after "<!": a comment, CDATA, or a forbidden declaration
	stComment                   // in <!-- … -->
	stCDATA                     // in <![CDATA[ … ]]>
	stPI                        // in <? … ?>
)

// guard lexes the raw bytes on their way to the parser and refuses a
// document as soon as it breaks a limit, before the parser has buffered the
// offending value. It only has to be right about well-formed input; on
// malformed input it may stop early or late, and the parser refuses it.
type guard struct {
	r   io.Reader
	lim Limits

	large map[string]bool // local names of base64 content elements
	err   error           // the first fault; every later Read returns it
	// readErr is the source's own error, passed on unchanged.
	readErr error

	n         int64 // bytes read
	line      int
	onlySpace bool // nothing but whitespace so far

	state    lexState
	run      int    // length of the current text, value, name or comment
	quote    byte   // the quote that opened the attribute value
	dashes   int    // consecutive '-' (comment end) or ']' (CDATA end)
	question bool   // previous byte was '?' (PI end)
	bang     []byte // bytes after "<!" until it is clear what follows
	name     []byte // the start tag's name, up to maxNameBytes
	attrs    int    // attributes in the current start tag
	attr     []byte // the current attribute's name
	// attrNames are the local names of the current start tag's attributes
	// so far: a name twice is refused before the parser lets one win.
	attrNames []string

	// open elements, outermost first, for paths in messages: name and
	// 1-based position among same-named siblings, and the counts of the
	// names of their children so far.
	stack []openElement
	top   map[string]int // counts of root elements (one, unless malformed)

	depth      int
	elements   int
	largeStack []bool // per open element: may its text be large?
	rootDone   bool   // the root element has closed
}

func newGuard(r io.Reader, lim Limits) *guard {
	g := &guard{r: r, lim: lim, line: 1, onlySpace: true, large: map[string]bool{}}
	for _, n := range lim.LargeText {
		g.large[n] = true
	}
	return g
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if n > 0 {
		if ferr := g.scan(p[:n]); ferr != nil {
			g.err = ferr
			return 0, ferr
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		g.readErr = err
	}
	return n, err
}

// finish checks what can only be checked at the end of the input.
func (g *guard) finish() error {
	if g.err != nil {
		return g.err
	}
	return nil
}

func (g *guard) fail(code mortgage.Code, format string, args ...any) error {
	return &Error{Code: code, Line: g.line, Message: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// textCap is the cap on the current text node.
func (g *guard) textCap() int {
	if n := len(g.largeStack); n > 0 && g.largeStack[n-1] {
		return g.lim.MaxLargeTextBytes
	}
	return g.lim.MaxTextBytes
}

func (g *guard) scan(p []byte) error {
	if g.lim.MaxBytes > 0 && g.n+int64(len(p)) > g.lim.MaxBytes {
		return g.fail(CodeTooLarge, "XML 文档超过 %d 字节上限", g.lim.MaxBytes)
	}
	g.n += int64(len(p))
	for _, c := range p {
		if c == '\n' {
			g.line++
		}
		if g.onlySpace && !isSpace(c) {
			g.onlySpace = false
		}
		switch g.state {
		case stText:
			if c == '<' {
				g.state = stLt
				continue
			}
			if g.depth == 0 {
				if !isSpace(c) {
					return g.fail(CodeMalformed, "XML 格式错误（第 %d 行）：根元素之外不能有文字", g.line)
				}
				continue
			}
			g.run++
			if g.run > g.textCap() {
				return g.fail(CodeValueTooLong, "XML 文字内容超过 %d 字节上限（第 %d 行）", g.textCap(), g.line)
			}

		case stLt:
			switch c {
			case '/':
				g.state, g.run = stEndTag, 0
			case '?':
				g.state, g.run, g.question = stPI, 0, false
			case '!':
				g.state, g.bang = stBang, g.bang[:0]
			default:
				if g.rootDone {
					return g.fail(CodeMalformed, "XML 格式错误（第 %d 行）：文档只能有一个根元素", g.line)
				}
				g.state, g.run, g.attrs = stStartName, 1, 0
				g.name = append(g.name[:0], c)
				g.attrNames = g.attrNames[:0]
			}

		case stStartName:
			switch {
			case isSpace(c):
				g.state, g.run = stInTag, 0
			case c == '/':
				g.state = stSlash
			case c == '>':
				if err := g.open(false); err != nil {
					return err
				}
			default:
				g.run++
				if g.run > maxNameBytes {
					return g.fail(CodeValueTooLong, "XML 元素名超过 %d 字节（第 %d 行）", maxNameBytes, g.line)
				}
				g.name = append(g.name, c)
			}

		case stInTag:
			switch {
			case c == '"' || c == '\'':
				g.attrs++
				if g.attrs > g.lim.MaxAttrs {
					return g.fail(CodeTooLarge, "一个 XML 元素最多 %d 个属性（第 %d 行）", g.lim.MaxAttrs, g.line)
				}
				if err := g.attribute(); err != nil {
					return err
				}
				g.state, g.quote, g.run = stAttrValue, c, 0
			case c == '/':
				g.state = stSlash
			case c == '>':
				if err := g.open(false); err != nil {
					return err
				}
			case isSpace(c) || c == '=':
				g.run = 0
			default: // an attribute name
				if g.run == 0 {
					g.attr = g.attr[:0]
				}
				g.attr = append(g.attr, c)
				g.run++
				if g.run > maxNameBytes {
					return g.fail(CodeValueTooLong, "XML 属性名超过 %d 字节（第 %d 行）", maxNameBytes, g.line)
				}
			}

		case stAttrValue:
			if c == g.quote {
				g.state, g.run, g.attr = stInTag, 0, g.attr[:0]
				continue
			}
			g.run++
			if g.run > g.lim.MaxAttrBytes {
				return g.fail(CodeValueTooLong, "XML 属性值超过 %d 字节上限（第 %d 行）", g.lim.MaxAttrBytes, g.line)
			}

		case stSlash:
			if c == '>' {
				if err := g.open(true); err != nil {
					return err
				}
			} else {
				g.state, g.run = stInTag, 0 // malformed: the parser will say so
			}

		case stEndTag:
			if c == '>' {
				if g.depth > 0 {
					g.depth--
					g.largeStack = g.largeStack[:len(g.largeStack)-1]
					g.stack = g.stack[:len(g.stack)-1]
				}
				if g.depth == 0 {
					g.rootDone = true
				}
				g.state, g.run = stText, 0
				continue
			}
			g.run++
			if g.run > maxNameBytes+64 {
				return g.fail(CodeValueTooLong, "XML 结束标记过长（第 %d 行）", g.line)
			}

		case stBang:
			g.bang = append(g.bang, c)
			switch b := string(g.bang); {
			case b == "--":
				g.state, g.run, g.dashes = stComment, 0, 0
			case b == "[CDATA[":
				if g.depth == 0 {
					return g.fail(CodeMalformed, "XML 格式错误（第 %d 行）：根元素之外不能有 CDATA", g.line)
				}
				g.state, g.dashes = stCDATA, 0 // the text run goes on: CDATA is text
			case strings.HasPrefix("--", b) || strings.HasPrefix("[CDATA[", b):
				// not decided yet
			default:
				return g.fail(CodeDoctype, "不接受 DOCTYPE 或其他 <!…> 声明（第 %d 行）：文档不能定义实体或引用外部文件", g.line)
			}

		case stComment:
			g.run++
			if g.run > g.lim.MaxTextBytes {
				return g.fail(CodeValueTooLong, "XML 注释超过 %d 字节上限（第 %d 行）", g.lim.MaxTextBytes, g.line)
			}
			switch {
			case c == '-':
				g.dashes++
			case c == '>' && g.dashes >= 2:
				g.state, g.run = stText, 0
			default:
				g.dashes = 0
			}

		case stCDATA:
			g.run++
			if g.run > g.textCap() {
				return g.fail(CodeValueTooLong, "XML 文字内容超过 %d 字节上限（第 %d 行）", g.textCap(), g.line)
			}
			switch {
			case c == ']':
				g.dashes++
			case c == '>' && g.dashes >= 2:
				g.state = stText // the text run goes on after CDATA
			default:
				g.dashes = 0
			}

		case stPI:
			g.run++
			if g.run > g.lim.MaxTextBytes {
				return g.fail(CodeValueTooLong, "XML 处理指令超过 %d 字节上限（第 %d 行）", g.lim.MaxTextBytes, g.line)
			}
			if c == '>' && g.question {
				g.state, g.run = stText, 0
			}
			g.question = c == '?'
		}
	}
	return nil
}

// open records a start tag just closed by '>' (or "/>" when empty).
func (g *guard) open(empty bool) error {
	g.elements++
	if g.elements > g.lim.MaxElements {
		return g.fail(CodeTooLarge, "XML 文档最多 %d 个元素", g.lim.MaxElements)
	}
	if g.depth+1 > g.lim.MaxDepth {
		return g.fail(CodeTooDeep, "XML 元素嵌套超过 %d 层（第 %d 行）", g.lim.MaxDepth, g.line)
	}
	g.state, g.run = stText, 0
	siblings := g.siblings()
	siblings[string(g.name)]++
	if empty {
		if g.depth == 0 {
			g.rootDone = true
		}
		return nil
	}
	name := g.name
	if i := lastByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	g.depth++
	g.largeStack = append(g.largeStack, g.large[string(name)])
	g.stack = append(g.stack, openElement{name: string(g.name), index: siblings[string(g.name)]})
	return nil
}

// openElement is an element the guard is inside of.
type openElement struct {
	name     string
	index    int            // 1-based among its same-named siblings
	children map[string]int // its children's names so far, counted
}

// siblings counts the names of the current element's children.
func (g *guard) siblings() map[string]int {
	if len(g.stack) == 0 {
		if g.top == nil {
			g.top = map[string]int{}
		}
		return g.top
	}
	top := &g.stack[len(g.stack)-1]
	if top.children == nil {
		top.children = map[string]int{}
	}
	return top.children
}

// path names the element whose start tag is being read, as XPath:
// /Application/Parties/Party[2].
func (g *guard) path() string {
	var b strings.Builder
	step := func(name string, index int) {
		b.WriteString("/" + name)
		if index > 1 {
			fmt.Fprintf(&b, "[%d]", index)
		}
	}
	for _, e := range g.stack {
		step(e.name, e.index)
	}
	step(string(g.name), g.siblings()[string(g.name)]+1)
	if r := []rune(b.String()); len(r) > 120 { // 64 levels of 256-byte names would be 16 KB
		return "…" + string(r[len(r)-120:])
	}
	return b.String()
}

// attribute records the name of an attribute whose value starts now. Two
// attributes of one element with the same name are not well-formed XML,
// and encoding/xml would pass both on for the last (or the first) to win.
// The local name counts, so p:role and q:role are one name too: no format
// has two attributes that differ only by prefix. Namespace declarations
// are left to the parser.
func (g *guard) attribute() error {
	full := string(g.attr)
	if full == "" || full == "xmlns" || strings.HasPrefix(full, "xmlns:") {
		return nil
	}
	local := full
	if i := strings.LastIndexByte(full, ':'); i >= 0 {
		local = full[i+1:]
	}
	for _, seen := range g.attrNames {
		if seen == local {
			p := g.path()
			return &Error{Code: CodeDuplicateAttr, Field: p + "/@" + mortgage.Clip(local), Line: g.line,
				Message: fmt.Sprintf("元素 %s 的属性 %s 出现了两次（第 %d 行）：同一属性只能写一次", p, mortgage.Clip(local), g.line)}
		}
	}
	g.attrNames = append(g.attrNames, local)
	return nil
}

func lastByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}
