package xmlmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// FormatVersion identifies the mapping file format this package reads.
const FormatVersion = "mortgaged-xml-dialect/1"

// File is a dialect mapping file as written (JSON). docs/formats/bank-dialects.md
// describes every member; partners/dialects/ holds the shipped ones.
type File struct {
	Format      string             `json:"format"`
	Name        string             `json:"name"`
	Title       string             `json:"title"`
	Description string             `json:"description"`
	Request     RequestSpec        `json:"request"`
	Codes       map[string][]Entry `json:"codes"`
	Answers     AnswersSpec        `json:"answers"`
}

// RequestSpec maps the partner's request document onto the canonical application.
type RequestSpec struct {
	Root      string `json:"root"`
	Namespace string `json:"namespace"`
	// Unknown says what an element, attribute or text no field reads does:
	// "reject" (the default: 400 xml_unknown_element, so a misspelt element
	// is never silently dropped) or "ignore".
	Unknown string      `json:"unknown"`
	Fields  []FieldSpec `json:"fields"`
}

// FieldSpec maps one canonical field, or one repeated group of them.
type FieldSpec struct {
	To     string      `json:"to"`     // canonical field: "reference", "mortgage.debtEnd"; a group "units[]"; in a group "unitNumber"
	From   Sources     `json:"from"`   // the partner path; several paths are joined with "+" for a code lookup
	Const  string      `json:"const"`  // a fixed canonical value instead of a source
	Each   string      `json:"each"`   // group: the path of the repeated element; without it the group's fields repeat in parallel
	Fields []FieldSpec `json:"fields"` // group members
	Codes  string      `json:"codes"`  // name of the code table that translates the value
	Amount string      `json:"amount"` // amounts: "yuan" (2 decimals), "wan" (万元, 6 decimals) or "fen" (integer)
	Date   []string    `json:"date"`   // dates: accepted layouts of YYYY, MM, DD and separators; the first is written
}

// Sources is one path or a list of paths.
type Sources []string

// UnmarshalJSON accepts "a/b" as well as ["a", "b"].
func (s *Sources) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Sources{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New(`"from" must be a path or a list of paths`)
	}
	*s = many
	return nil
}

// Entry is one row of a code table.
type Entry struct {
	Partner   string `json:"partner"`   // the value as the partner writes it; "*" in a part of a joined value matches anything
	Canonical string `json:"canonical"` // the canonical value
	Label     string `json:"label"`     // Chinese, for messages and docs
}

// AnswersSpec holds the templates answers are written from.
type AnswersSpec struct {
	Decision *TemplateSpec `json:"decision"`
	Problem  *TemplateSpec `json:"problem"`
	Event    *TemplateSpec `json:"event"`
}

// TemplateSpec builds one answer document.
type TemplateSpec struct {
	Root      string    `json:"root"`
	Namespace string    `json:"namespace"`
	Fields    []OutSpec `json:"fields"`
}

// OutSpec writes one value, one repeated group, or (in events) the decision.
type OutSpec struct {
	To     string            `json:"to"`     // answer path: "YWH", "Certificate/@no", "." for the item element's text
	From   string            `json:"from"`   // answer value: "reference", "registration.certificateNumber"; a group "reasons[]"; "decision" in events
	Const  string            `json:"const"`  // a fixed value instead
	Fields []OutSpec         `json:"fields"` // group members
	Codes  map[string]string `json:"codes"`  // canonical value → partner value; a value not listed is left out
	Table  string            `json:"table"`  // or: a request code table, read backwards (canonical → partner)
	Time   string            `json:"time"`   // times: layout of YYYY MM DD hh mm ss, or "" for RFC 3339
	Amount string            `json:"amount"` // amounts: yuan, wan or fen (default yuan)
}

// valueKind is how a canonical field's text is read.
type valueKind int

const (
	kindText valueKind = iota
	kindAmount
	kindDate
	kindBool
	kindBase64
)

var partyMembers = map[string]valueKind{"name": kindText, "idType": kindText, "idNumber": kindText}

// scalarTargets are the canonical fields outside groups.
var scalarTargets = map[string]valueKind{
	"reference": kindText, "type": kindText, "feeExemption": kindText, "remarks": kindText,
	"mortgage.collateralKind": kindText, "mortgage.principalAmount": kindAmount, "mortgage.maximumAmount": kindAmount,
	"mortgage.debtStart": kindDate, "mortgage.debtEnd": kindDate, "mortgage.scope": kindText, "mortgage.transferRestricted": kindBool,
	"cancellation.certificateNumber": kindText, "cancellation.reason": kindText,
	"reviewRequest": kindText,
}

// groupTargets are the canonical repeated groups and their members.
var groupTargets = map[string]map[string]valueKind{
	"units":      {"unitNumber": kindText, "titleCertificateNumber": kindText},
	"mortgagors": partyMembers,
	"debtors":    partyMembers,
	"materials":  {"kind": kindText, "fileName": kindText, "mediaType": kindText, "sha256": kindText, "content": kindBase64},
	"promises":   {"kind": kindText, "dueOn": kindDate},
}

func init() {
	for _, p := range []string{"mortgagee", "agent"} {
		for m, k := range partyMembers {
			scalarTargets[p+"."+m] = k
		}
	}
}

// Dialect is a compiled mapping, ready to decode requests and encode answers.
type Dialect struct {
	Name, Title string
	file        File
	root        string
	namespace   string
	reject      bool
	scalars     []*field
	groups      []*group
	codes       map[string]*codeTable
	largeText   []string
	decision    *template
	problem     *template
	event       *template
}

// field is a compiled FieldSpec for one canonical field.
type field struct {
	target   string // canonical path (member name inside a group)
	kind     valueKind
	from     []path
	constant string
	codes    *codeTable
	amount   amountUnit
	dates    []string // Go layouts
	spec     FieldSpec
}

// group is a compiled repeated group.
type group struct {
	target string // "units", …
	each   *path  // nil for parallel groups
	fields []*field
}

// ErrUnknownDialect is returned for a dialect name no mapping file defines.
var ErrUnknownDialect = errors.New("xmlmap: unknown dialect")

// Set is every dialect loaded at start.
type Set struct{ byName map[string]*Dialect }

// Dialect returns the named dialect, or ErrUnknownDialect.
func (s *Set) Dialect(name string) (*Dialect, error) {
	if d, ok := s.byName[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownDialect, name)
}

// Names lists the dialects in name order.
func (s *Set) Names() []string {
	return slices.Sorted(maps.Keys(s.byName))
}

// LoadDir loads every *.json mapping file in dir.
func LoadDir(dir string) (*Set, error) { return Load(os.DirFS(dir)) }

// Load loads every *.json mapping file at the top of fsys. A file's name
// (without .json) must be its dialect name. Any fault in any file fails the
// whole load, so a broken mapping stops the server at start, not a bank's
// request at noon.
func Load(fsys fs.FS) (*Set, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("xmlmap: no *.json mapping files")
	}
	s := &Set{byName: map[string]*Dialect{}}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		d, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if !d.HasAnswers() {
			return nil, fmt.Errorf("%s: a bank dialect needs answers.decision, answers.problem and answers.event", n)
		}
		if stem := strings.TrimSuffix(filepath.Base(n), ".json"); stem != d.Name {
			return nil, fmt.Errorf("%s: dialect name %q must equal the file name %q", n, d.Name, stem)
		}
		s.byName[d.Name] = d
	}
	return s, nil
}

var dialectNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Parse compiles one mapping file.
func Parse(b []byte) (*Dialect, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt member is a mistake, never a silent default
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("mapping file: %w", err)
	}
	if f.Format != FormatVersion {
		return nil, fmt.Errorf("format must be %q, got %q", FormatVersion, f.Format)
	}
	if !dialectNameRE.MatchString(f.Name) {
		return nil, fmt.Errorf("name %q: use lower-case letters, digits and '-'", f.Name)
	}
	d := &Dialect{Name: f.Name, Title: f.Title, file: f, root: f.Request.Root, namespace: f.Request.Namespace, codes: map[string]*codeTable{}}
	if !nameRE.MatchString(f.Request.Root) {
		return nil, fmt.Errorf("request.root %q is not an element name", f.Request.Root)
	}
	switch f.Request.Unknown {
	case "", "reject":
		d.reject = true
	case "ignore":
	default:
		return nil, fmt.Errorf(`request.unknown must be "reject" or "ignore"`)
	}
	for name, entries := range f.Codes {
		t, err := newCodeTable(name, entries)
		if err != nil {
			return nil, err
		}
		d.codes[name] = t
	}
	seen := map[string]bool{}
	for _, spec := range f.Request.Fields {
		if g, ok := strings.CutSuffix(spec.To, "[]"); ok {
			grp, err := d.compileGroup(g, spec)
			if err != nil {
				return nil, err
			}
			if seen[g] {
				return nil, fmt.Errorf("%s is mapped twice", spec.To)
			}
			seen[g] = true
			d.groups = append(d.groups, grp)
			continue
		}
		kind, ok := scalarTargets[spec.To]
		if !ok {
			return nil, fmt.Errorf("request field %q: not a canonical field (see bank-dialects.md)", spec.To)
		}
		if seen[spec.To] {
			return nil, fmt.Errorf("%s is mapped twice", spec.To)
		}
		seen[spec.To] = true
		fl, err := d.compileField(spec.To, kind, spec)
		if err != nil {
			return nil, err
		}
		d.scalars = append(d.scalars, fl)
	}
	if !seen["reference"] || !seen["type"] {
		return nil, errors.New("request must map reference and type")
	}
	var err error
	if d.decision, err = d.compileTemplate("decision", f.Answers.Decision, decisionSources); err != nil {
		return nil, err
	}
	if d.problem, err = d.compileTemplate("problem", f.Answers.Problem, problemSources); err != nil {
		return nil, err
	}
	if d.event, err = d.compileTemplate("event", f.Answers.Event, eventSources); err != nil {
		return nil, err
	}
	return d, nil
}

// HasAnswers reports whether the mapping has all three answer templates,
// which a bank dialect needs; a mapping embedded in another format (the
// provident fund batch record) may have none.
func (d *Dialect) HasAnswers() bool { return d.decision != nil && d.problem != nil && d.event != nil }

func (d *Dialect) compileGroup(target string, spec FieldSpec) (*group, error) {
	members, ok := groupTargets[target]
	if !ok {
		return nil, fmt.Errorf("request field %q: not a canonical group (units, mortgagors, debtors, materials, promises)", spec.To)
	}
	if len(spec.From) > 0 || spec.Const != "" || spec.Codes != "" || spec.Amount != "" || len(spec.Date) > 0 {
		return nil, fmt.Errorf("%s: a group has only each and fields", spec.To)
	}
	g := &group{target: target}
	if spec.Each != "" {
		p, err := parsePath(spec.Each, false)
		if err != nil {
			return nil, fmt.Errorf("%s.each: %w", spec.To, err)
		}
		if p.attr != "" || p.isSelf() {
			return nil, fmt.Errorf("%s.each must name an element", spec.To)
		}
		g.each = &p
	}
	seen := map[string]bool{}
	for _, m := range spec.Fields {
		kind, ok := members[m.To]
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a member of %s", spec.To, m.To, target)
		}
		if seen[m.To] {
			return nil, fmt.Errorf("%s.%s is mapped twice", spec.To, m.To)
		}
		seen[m.To] = true
		fl, err := d.compileField(target+"[]."+m.To, kind, m)
		if err != nil {
			return nil, err
		}
		fl.target = m.To
		if g.each == nil && (fl.constant != "" || len(fl.from) != 1 || fl.from[0].isSelf()) {
			return nil, fmt.Errorf("%s.%s: in a group without each, every member needs one path of its own", spec.To, m.To)
		}
		g.fields = append(g.fields, fl)
	}
	if len(g.fields) == 0 {
		return nil, fmt.Errorf("%s has no fields", spec.To)
	}
	// Content read from the item element itself ("."): the item element
	// is the one whose text may be a whole document.
	if f := g.field("content"); f != nil && f.from[0].isSelf() && g.each != nil {
		d.largeText = append(d.largeText, g.each.steps[len(g.each.steps)-1].name)
	}
	return g, nil
}

func (d *Dialect) compileField(name string, kind valueKind, spec FieldSpec) (*field, error) {
	fl := &field{target: name, kind: kind, constant: spec.Const, spec: spec}
	if spec.Each != "" || len(spec.Fields) > 0 {
		return nil, fmt.Errorf("%s: each and fields belong to groups (to: \"x[]\")", name)
	}
	switch {
	case spec.Const != "" && len(spec.From) > 0:
		return nil, fmt.Errorf("%s: const and from exclude each other", name)
	case spec.Const == "" && len(spec.From) == 0:
		return nil, fmt.Errorf("%s: needs from (a path) or const", name)
	case spec.Const != "" && kind != kindText:
		return nil, fmt.Errorf("%s: const is for text fields only", name)
	}
	for _, s := range spec.From {
		p, err := parsePath(s, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		fl.from = append(fl.from, p)
	}
	if len(fl.from) > 1 && spec.Codes == "" {
		return nil, fmt.Errorf("%s: several paths are joined for a code lookup, so codes is required", name)
	}
	if spec.Codes != "" {
		t, ok := d.codes[spec.Codes]
		if !ok {
			return nil, fmt.Errorf("%s: no code table %q", name, spec.Codes)
		}
		if kind != kindText && kind != kindBool {
			return nil, fmt.Errorf("%s: codes apply to text and true/false fields", name)
		}
		if t.parts != len(fl.from) {
			return nil, fmt.Errorf("%s: code table %q has values of %d part(s) but from has %d path(s)", name, spec.Codes, t.parts, len(fl.from))
		}
		if kind == kindBool {
			for _, e := range t.entries {
				if e.Canonical != "true" && e.Canonical != "false" {
					return nil, fmt.Errorf("%s: code table %q must translate to true or false", name, spec.Codes)
				}
			}
		}
		fl.codes = t
	}
	switch kind {
	case kindAmount:
		u, ok := amountUnits[spec.Amount]
		if !ok {
			return nil, fmt.Errorf("%s: amount must be yuan, wan or fen", name)
		}
		fl.amount = u
	case kindDate:
		if len(spec.Date) == 0 {
			return nil, fmt.Errorf("%s: date needs at least one layout, e.g. [\"YYYYMMDD\"]", name)
		}
		for _, l := range spec.Date {
			gl, err := layout(l, false)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			fl.dates = append(fl.dates, gl)
		}
	case kindBase64:
		if fl.constant != "" || fl.from[0].attr != "" {
			return nil, fmt.Errorf("%s: base64 content must be an element's text", name)
		}
		if !fl.from[0].isSelf() {
			d.largeText = append(d.largeText, fl.from[0].steps[len(fl.from[0].steps)-1].name)
		}
	}
	if kind != kindAmount && spec.Amount != "" {
		return nil, fmt.Errorf("%s: amount applies to amounts only", name)
	}
	if kind != kindDate && len(spec.Date) > 0 {
		return nil, fmt.Errorf("%s: date applies to dates only", name)
	}
	return fl, nil
}

// codeTable translates a partner's code values.
type codeTable struct {
	name    string
	entries []Entry
	parts   int
}

func newCodeTable(name string, entries []Entry) (*codeTable, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("code table %q is empty", name)
	}
	t := &codeTable{name: name, entries: entries, parts: len(strings.Split(entries[0].Partner, "+"))}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Partner == "" || e.Canonical == "" {
			return nil, fmt.Errorf("code table %q: every entry needs partner and canonical", name)
		}
		if seen[e.Partner] {
			return nil, fmt.Errorf("code table %q: %q appears twice", name, e.Partner)
		}
		seen[e.Partner] = true
		if n := len(strings.Split(e.Partner, "+")); n != t.parts {
			return nil, fmt.Errorf("code table %q: %q has %d part(s), the first entry %d", name, e.Partner, n, t.parts)
		}
	}
	return t, nil
}

// lookup finds the canonical value for a partner value (parts joined by "+").
func (t *codeTable) lookup(parts []string) (string, bool) {
	for _, e := range t.entries {
		want := strings.Split(e.Partner, "+")
		ok := true
		for i := range want {
			if want[i] != "*" && want[i] != parts[i] {
				ok = false
				break
			}
		}
		if ok {
			return e.Canonical, true
		}
	}
	return "", false
}

// reverse finds the partner's parts for a canonical value: the first entry
// that gives it ("*" parts come back empty: nothing to write).
func (t *codeTable) reverse(canonical string) ([]string, bool) {
	for _, e := range t.entries {
		if e.Canonical == canonical {
			parts := strings.Split(e.Partner, "+")
			for i, p := range parts {
				if p == "*" {
					parts[i] = ""
				}
			}
			return parts, true
		}
	}
	return nil, false
}

// choices lists the table for a message: 1 居民身份证、2 港澳台身份证……
func (t *codeTable) choices() string {
	var parts []string
	for _, e := range t.entries {
		s := strings.ReplaceAll(e.Partner, "+*", "")
		if e.Label != "" {
			s += " " + e.Label
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "、")
}
