package server

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"mortgaged/mortgage"
	"mortgaged/partners/centrejson"
)

// FuzzDecodeEncumbranceRequest: no body takes the query's decoder or its
// validation down (PROMISES S6); what fails to decode is a syntax error
// with a code and a message; what decodes survives being written again
// and read back unchanged.
//
//	go test ./server -run '^$' -fuzz FuzzDecodeEncumbranceRequest -fuzztime 1m
func FuzzDecodeEncumbranceRequest(f *testing.F) {
	good := `{"unitNumber":"230202001001GB00023F00010502","owner":{"name":"张伟","idType":"1","idNumber":"230202198503120331"},` +
		`"consent":{"kind":"owner_consent","fileName":"c.pdf","mediaType":"application/pdf","sha256":"` + strings.Repeat("0", 64) + `","content":"JVBERi0xLjQK"}}`
	for _, s := range []string{
		good,
		good[:len(good)/2],
		``, ` `, `null`, `{}`, `[]`, `"x"`, `{} {}`,
		`{"owner":null,"consent":null}`,
		`{"unitNumber":1}`,
		`{"owner":{"name":"a","name":"b"}}`,
		`{"unitNumber":"a","\u0075nitNumber":"b"}`,
		`{"UnitNumber":"x"}`,
		`{"consent":{"content":"@@@"}}`,
		`{"consent":{"content":"JVBERi0x\nLjQK"}}`,
		"{\"owner\":{\"name\":\"\xff\xfe\"}}",
		`{"owner":{"name":"e\u0301","idType":"1","idNumber":"23020219750505103x"}}`,
		`{"unitNumber":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		f.Add([]byte(s))
	}
	svc := mortgage.NewService(nil, mortgage.Config{Location: time.UTC})
	f.Fuzz(func(t *testing.T, body []byte) {
		q, issues, err := decodeEncumbranceRequest(body)
		if err != nil {
			var se *centrejson.SyntaxError
			if !errors.As(err, &se) || se.Code == "" || se.Message == "" || issues != nil {
				t.Fatalf("bad syntax error %T %+v, issues %v", err, err, issues)
			}
			return
		}
		for _, i := range issues {
			if i.Field != "consent.content" {
				t.Fatalf("a decode issue on %s", i.Field)
			}
		}
		for _, i := range mortgage.MergeIssues(issues, svc.CheckEncumbranceRequest(q)) {
			if i.Field == "" || i.Code == "" || i.Message == "" {
				t.Fatalf("an issue without field, code or message: %+v", i)
			}
		}
		if len(issues) > 0 {
			return
		}
		w := encumbranceRequest{UnitNumber: q.UnitNumber, Owner: &encumbranceParty{q.Owner.Name, q.Owner.IDType, q.Owner.IDNumber}}
		if c := q.Consent; c != nil {
			w.Consent = &consentDocument{c.Kind, c.FileName, c.MediaType, c.SHA256, base64.StdEncoding.EncodeToString(c.Content)}
		}
		enc, err := jsonv2.Marshal(w)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, issues, err := decodeEncumbranceRequest(enc)
		if err != nil || len(issues) > 0 {
			t.Fatalf("re-decoding our own encoding: %v %v\n%s", err, issues, enc)
		}
		if again.Consent != nil && len(again.Consent.Content) == 0 {
			again.Consent.Content = q.Consent.Content // nil and empty decode alike
		}
		if !reflect.DeepEqual(again, q) {
			t.Fatalf("changed in a round trip:\nfirst:  %+v\nsecond: %+v", q, again)
		}
	})
}
