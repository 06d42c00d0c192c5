package centrejson_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
)

// FuzzDecode: no body takes the decoder or validation down (PROMISES S6),
// and whatever decodes survives EncodeApplication and a second Decode with
// the same canonical form, so a retried submission hashes the same.
//
//	go test ./partners/centrejson -run '^$' -fuzz FuzzDecode -fuzztime 1m
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.request.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no example requests in %s (%v)", examplesDir, err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2]) // truncated
	}
	for _, s := range []string{
		``,
		` `,
		`null`,
		`{}`,
		`[]`,
		`"x"`,
		`{"units": "x"}`,
		`{"reference": 1, "type": true}`,
		`{"foo": 1}`,
		`{} {}`,
		`{"mortgage": {"principalAmount": 1e5, "maximumAmount": "12,000", "debtStart": "2026/01/01", "debtEnd": "0001-01-01"}}`,
		`{"mortgage": {"principalAmount": "9999999999999.99", "transferRestricted": null}}`,
		`{"materials": [{"content": "@@@"}, {"content": "JVBERi0x\nLjQK"}]}`,
		`{"mortgagors": [{"name": " ǆ ", "idType": "1", "idNumber": "ß\u00a0x"}], "mortgagee": {"idType": "7", "idNumber": "ﬀ"}}`,
		"{\"reference\": \"\xff\xfe\"}",
		`{"reference": "a", "reference": "b"}`,
		`{"mortgage": {"principalAmount": "460000.00", "PRINCIPALAMOUNT": "1.00"}}`,
		`{"mortgage": {"principalAmount": "460000.00", "principal\u0041mount": "1.00"}}`,
		`{"materials": [{"kind": "a", "kind": "b"}]}`,
		`{"mortgage": {"principalAmount": {"a": 1, "\u0061": 2}}}`,
		`{"Reference": "a"}`,
		"{\"remarks\": \"a\\u0000b\\u202e\"}",
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		`{"units": ` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		app, issues, err := centrejson.Decode(body)
		if err != nil {
			var se *centrejson.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Decode returned %T, want *SyntaxError: %v", err, err)
			}
			if app != nil || issues != nil || se.Code == "" || se.Message == "" {
				t.Fatalf("bad syntax error: app=%v issues=%v err=%+v", app != nil, issues, se)
			}
			return
		}
		mortgage.Validate(app, mortgage.Rules{Today: exampleToday, PartnerCreditCode: exampleBank})

		enc, err := centrejson.EncodeApplication(app)
		if err != nil {
			t.Fatalf("EncodeApplication: %v", err)
		}
		again, issues2, err := centrejson.Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding our own encoding: %v\n%s", err, enc)
		}
		if len(issues2) > 0 {
			t.Fatalf("re-decoding our own encoding: %+v\n%s", issues2, enc)
		}
		if c1, c2 := app.Canonical(), again.Canonical(); !bytes.Equal(c1, c2) {
			t.Fatalf("canonical form changed in a round trip:\nfirst:  %s\nsecond: %s", c1, c2)
		}
		for i := range app.Materials {
			if !bytes.Equal(app.Materials[i].Content, again.Materials[i].Content) {
				t.Fatalf("materials[%d] content changed in a round trip", i)
			}
		}
	})
}
