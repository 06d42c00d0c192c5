// Package formats is where a partner's wire format is chosen: the one place
// that knows every format package (centre JSON, centre XML, bank dialects
// by mapping file, the provident fund centre's batch file) and presents each
// through the same set of functions, so the server and the push never switch
// on a format name.
package formats

import (
	"errors"
	"fmt"
	"time"

	"mortgaged/internal/fault"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/centrexml"
	"mortgaged/partners/fundbatch"
	"mortgaged/partners/problemxml"
	"mortgaged/partners/xmlmap"
)

// Format is one wire format, as the server uses it.
type Format struct {
	Name string
	// Accepts are the request media types the format is sent as.
	Accepts []string
	// AnswerType is the media type of decisions; ProblemType of errors.
	AnswerType, ProblemType string
	Decode                  func(body []byte) (*mortgage.Application, mortgage.Issues, error)
	DecodeMaterial          func(body []byte) (mortgage.Material, mortgage.Issues, error)
	EncodeDecision          func(*mortgage.Decision) ([]byte, error)
	EncodeEvent             func(mortgage.Event) ([]byte, error)
	// EventType is the media type of the events EncodeEvent writes.
	EventType string
	// EncodeProblem renders an error; nil means problem+json.
	EncodeProblem func(fault.Problem) ([]byte, error)
}

// ErrUnknown is a partner registered with a format this server does not have.
var ErrUnknown = errors.New("unknown wire format")

// CodeUnknown is the answer to a partner registered with a format this node
// does not have: the centre's registration is at fault, not the request.
const CodeUnknown fault.Code = "partner_format_unknown"

// Set holds every format this server speaks.
type Set struct{ byName map[string]*Format }

// New builds the formats, with answers' times in business time loc and the
// bank dialects loaded from their mapping files.
func New(loc *time.Location, dialects *xmlmap.Set) (*Set, error) {
	s := &Set{byName: map[string]*Format{}}
	json := &Format{
		Name: partners.FormatCentreJSON, Accepts: []string{centrejson.MediaType},
		AnswerType: centrejson.MediaType, ProblemType: "application/problem+json",
		Decode:         centrejson.Decode,
		DecodeMaterial: centrejson.DecodeMaterial,
		EncodeDecision: func(d *mortgage.Decision) ([]byte, error) { return centrejson.EncodeDecision(d, loc) },
		EncodeEvent:    func(e mortgage.Event) ([]byte, error) { return centrejson.EncodeEvent(e, loc) },
		EventType:      "application/json",
	}
	s.byName[json.Name] = json
	xmlTypes := []string{"application/xml", "text/xml"}
	s.byName[partners.FormatCentreXML] = &Format{
		Name: partners.FormatCentreXML, Accepts: xmlTypes, AnswerType: "application/xml", ProblemType: problemxml.MediaType,
		Decode: centrexml.Decode,
		DecodeMaterial: func(b []byte) (mortgage.Material, mortgage.Issues, error) {
			m, is, err := centrexml.DecodeMaterial(b)
			if m == nil {
				return mortgage.Material{}, is, err
			}
			return *m, is, err
		},
		EncodeDecision: func(d *mortgage.Decision) ([]byte, error) { return centrexml.EncodeDecision(d, loc) },
		EncodeEvent:    func(e mortgage.Event) ([]byte, error) { return centrexml.EncodeEvent(e, loc) },
		EventType:      "application/xml",
		EncodeProblem:  centrexml.EncodeProblem,
	}
	// The fund centre's own file is for batches (POST /v1/batches); its
	// single bundles and answers use the centre's JSON.
	fund := *json
	fund.Name = partners.FormatFundBatch
	fund.Accepts = []string{centrejson.MediaType}
	// Its events are its own XML documents, gathered into one file per
	// scheduled delivery (docs/formats/fund-events-v1.xsd).
	fund.EncodeEvent = func(e mortgage.Event) ([]byte, error) { return fundbatch.EncodeEvent(e, loc) }
	fund.EventType = "application/xml"
	s.byName[fund.Name] = &fund
	if dialects != nil {
		for _, name := range dialects.Names() {
			d, err := dialects.Dialect(name)
			if err != nil {
				return nil, err
			}
			if _, clash := s.byName[name]; clash {
				return nil, fmt.Errorf("dialect %q has the name of a built-in format", name)
			}
			s.byName[name] = &Format{
				Name: name, Accepts: xmlTypes, AnswerType: "application/xml", ProblemType: "application/xml",
				Decode:         d.Decode,
				DecodeMaterial: centrejson.DecodeMaterial, // documents supplied later come as JSON for every bank
				EncodeDecision: func(dec *mortgage.Decision) ([]byte, error) { return d.EncodeDecision(dec, loc) },
				EncodeEvent:    func(e mortgage.Event) ([]byte, error) { return d.EncodeEvent(e, loc) },
				EventType:      "application/xml",
				EncodeProblem:  d.EncodeProblem,
			}
		}
	}
	return s, nil
}

// Get returns a format by name.
func (s *Set) Get(name string) (*Format, error) {
	if f, ok := s.byName[name]; ok {
		return f, nil
	}
	// Nothing the partner sends can be served until the centre corrects
	// the registration (or deploys the dialect); logged for staff.
	return nil, &fault.Error{Kind: fault.Unavailable, Code: CodeUnknown, Err: fmt.Errorf("%w %q", ErrUnknown, name),
		Detail: "贵机构在登记中心登记的报文格式“" + mortgage.Clip(name) + "”本节点不支持，请求未作处理；请联系登记中心核对登记信息。"}
}

// JSON is the centre's JSON format, the default.
func (s *Set) JSON() *Format { return s.byName[partners.FormatCentreJSON] }

// Names lists the formats.
func (s *Set) Names() []string {
	var out []string
	for n := range s.byName {
		out = append(out, n)
	}
	return out
}

// EncodeEvent renders e in the named format (its partner's) and gives the
// payload's media type: a mortgage.EventEncoder. The caller names the
// format; nothing is looked up here, so encoding inside a registration's
// transaction never waits for another database connection or a lock.
func (s *Set) EncodeEvent(format string, e mortgage.Event) ([]byte, string, error) {
	f, err := s.Get(format)
	if err != nil {
		return nil, "", fmt.Errorf("event for partner %s: %w", e.PartnerID, err)
	}
	b, err := f.EncodeEvent(e)
	return b, f.EventType, err
}
