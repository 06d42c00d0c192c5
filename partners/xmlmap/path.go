package xmlmap

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/beevik/etree"
)

// path is a compiled location in a document, relative to a context element:
// element steps, each with optional attribute predicates, then optionally an
// attribute. "." is the context element itself. The grammar is a small,
// exact subset of XPath, so a path prints as XPath a partner can evaluate:
//
//	BDCDYH
//	Collateral/Unit
//	Parties/Party[@role='MORTGAGOR']
//	Loan/@amountWan
//	@bizNo
//	.
type path struct {
	steps   []step
	attr    string // "" when the path ends at an element
	src     string
	elemSrc string // src without the final attribute
}

type step struct {
	name  string
	preds []pred
}

type pred struct{ attr, value string }

var (
	nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	stepRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.-]*)((?:\[@[A-Za-z_][A-Za-z0-9_.-]*='[^'\[\]]*'\])*)$`)
	predRE = regexp.MustCompile(`\[@([A-Za-z_][A-Za-z0-9_.-]*)='([^'\[\]]*)'\]`)
)

// parsePath compiles a path; output paths may not have predicates.
func parsePath(s string, output bool) (path, error) {
	p := path{src: s}
	if s == "" {
		return p, fmt.Errorf("empty path")
	}
	if s == "." {
		return p, nil
	}
	parts := strings.Split(s, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, "@") && i == len(parts)-1 {
			if !nameRE.MatchString(part[1:]) {
				return p, fmt.Errorf("path %q: bad attribute name %q", s, part)
			}
			p.attr = part[1:]
			continue
		}
		m := stepRE.FindStringSubmatch(part)
		if m == nil {
			return p, fmt.Errorf("path %q: bad step %q (want Name, Name[@attr='value'] or a final @attr)", s, part)
		}
		st := step{name: m[1]}
		for _, pm := range predRE.FindAllStringSubmatch(m[2], -1) {
			st.preds = append(st.preds, pred{pm[1], pm[2]})
		}
		if output && len(st.preds) > 0 {
			return p, fmt.Errorf("path %q: answer paths take no [@attr='value'] predicates", s)
		}
		p.steps = append(p.steps, st)
	}
	var names []string
	for _, st := range p.steps {
		names = append(names, st.String())
	}
	p.elemSrc = strings.Join(names, "/")
	if p.elemSrc == "" {
		p.elemSrc = "."
	}
	return p, nil
}

func (p path) String() string { return p.src }

// isSelf reports the path "." (or "@attr" on the context element).
func (p path) isSelf() bool { return len(p.steps) == 0 }

// elementPart is the path without its final attribute.
func (p path) elementPart() path {
	return path{steps: p.steps, src: p.elemSrc, elemSrc: p.elemSrc}
}

func (s step) String() string {
	var b strings.Builder
	b.WriteString(s.name)
	for _, p := range s.preds {
		fmt.Fprintf(&b, "[@%s='%s']", p.attr, p.value)
	}
	return b.String()
}

// xpath joins a base path and p into an absolute XPath; index, when
// positive, is the 1-based position added after the last element step.
func (p path) xpath(base string, index int) string {
	var b strings.Builder
	b.WriteString(base)
	for i, st := range p.steps {
		b.WriteString("/" + st.String())
		if i == len(p.steps)-1 && index > 0 {
			fmt.Fprintf(&b, "[%d]", index)
		}
	}
	if p.attr != "" {
		b.WriteString("/@" + p.attr)
	}
	return b.String()
}

// matches reports whether el is named as the step says and has every
// predicate attribute.
func (s step) matches(el *etree.Element) bool {
	if el.Tag != s.name {
		return false
	}
	for _, p := range s.preds {
		if el.SelectAttrValue(p.attr, "\x00") != p.value {
			return false
		}
	}
	return true
}

// elements selects, in document order, the elements the path's element part
// reaches from ctx, marking them (and the predicate attributes) used.
func (p path) elements(ctx *etree.Element, u *usage) []*etree.Element {
	cur := []*etree.Element{ctx}
	for _, st := range p.steps {
		var next []*etree.Element
		for _, el := range cur {
			for _, t := range el.Child {
				c, ok := t.(*etree.Element)
				if ok && st.matches(c) {
					next = append(next, c)
					u.element(c)
					for _, pr := range st.preds {
						u.attr(c, pr.attr)
					}
				}
			}
		}
		cur = next
	}
	return cur
}

// create finds or makes, under ctx, the element the path's element part
// names; with fresh set the last step is always a new element (an item of a
// repeated group). Predicates become attributes of created elements.
func (p path) create(ctx *etree.Element, fresh bool) *etree.Element {
	cur := ctx
	for i, st := range p.steps {
		var found *etree.Element
		if !(fresh && i == len(p.steps)-1) {
			for _, c := range cur.ChildElements() {
				if st.matches(c) {
					found = c
				}
			}
		}
		if found == nil {
			found = cur.CreateElement(st.name)
			for _, pr := range st.preds {
				found.CreateAttr(pr.attr, pr.value)
			}
		}
		cur = found
	}
	return cur
}

// set writes v at the path's end: the attribute, or the element's text.
func (p path) set(el *etree.Element, v string) {
	if p.attr != "" {
		el.CreateAttr(p.attr, v)
		return
	}
	el.SetText(v)
}

// usage records what a decoding read, so that anything else in the
// document can be refused as unknown.
type usage struct {
	elements map[*etree.Element]bool
	texts    map[*etree.Element]bool
	attrs    map[attrKey]bool
}

type attrKey struct {
	el  *etree.Element
	key string
}

func newUsage() *usage {
	return &usage{elements: map[*etree.Element]bool{}, texts: map[*etree.Element]bool{}, attrs: map[attrKey]bool{}}
}

func (u *usage) element(el *etree.Element)        { u.elements[el] = true }
func (u *usage) text(el *etree.Element)           { u.texts[el] = true }
func (u *usage) attr(el *etree.Element, k string) { u.attrs[attrKey{el, k}] = true }
