package formats_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/dialects"
	"mortgaged/partners/formats"
	"mortgaged/partners/xmlmap"
)

// TestEncodeEvent: the caller names the format (no lookup: the set holds no
// database), and the media type stored with the event comes from the
// format, not from the payload's bytes.
func TestEncodeEvent(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	dialectSet, err := xmlmap.Load(dialects.Files)
	if err != nil {
		t.Fatal(err)
	}
	set, err := formats.New(loc, dialectSet)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, loc)
	e := mortgage.Event{ID: "evt_0123456789abcdef01234567", Type: mortgage.EventWithdrawn, PartnerID: "lj-bank", Subject: "b_1", OccurredAt: at,
		Decision: &mortgage.Decision{BundleID: "b_1", Reference: "LJB-1", Status: mortgage.StatusWithdrawn, ReceivedAt: at, DecidedAt: at}}
	cases := []struct{ format, mediaType, starts string }{
		{partners.FormatCentreJSON, "application/json", "{"},
		{partners.FormatCentreXML, "application/xml", "<"},
		{partners.FormatFundBatch, "application/xml", "<"},
	}
	for _, name := range dialectSet.Names() {
		cases = append(cases, struct{ format, mediaType, starts string }{name, "application/xml", "<"})
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			b, mt, err := set.EncodeEvent(c.format, e)
			if err != nil {
				t.Fatal(err)
			}
			if mt != c.mediaType || !bytes.HasPrefix(bytes.TrimSpace(b), []byte(c.starts)) {
				t.Errorf("%s: media type %q, payload %.40q…; want %s starting %q", c.format, mt, b, c.mediaType, c.starts)
			}
		})
	}
	if _, _, err := set.EncodeEvent("no-such-format", e); !errors.Is(err, formats.ErrUnknown) {
		t.Errorf("unknown format: %v, want ErrUnknown", err)
	}
}
