package registerdata_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/mortgage"
	"mortgaged/mortgage/registerdata"
	"mortgaged/partners/centrejson"
)

var today = registerdata.DemoDate

// decoded sends each sample through the JSON v1 encoder and decoder, as a
// bank's system and the server would.
func decoded(t *testing.T, samples map[string]*mortgage.Application) map[string]*mortgage.Application {
	t.Helper()
	out := map[string]*mortgage.Application{}
	for name, a := range samples {
		body, err := centrejson.EncodeApplication(a)
		if err != nil {
			t.Fatalf("%s: encode: %v", name, err)
		}
		got, is, err := centrejson.Decode(body)
		if err != nil || len(is) > 0 {
			t.Fatalf("%s: decode: %v %v", name, err, is)
		}
		out[name] = got
	}
	return out
}

func TestSampleBundlesValidate(t *testing.T) {
	t.Parallel()
	demo, _ := demoFile(t, 300, 21)
	bank := demo.Partners[0]
	samples := decoded(t, registerdata.SampleBundles(demo, today))
	rules := mortgage.Rules{Today: today, PartnerCreditCode: bank.CreditCode}

	tests := []struct {
		name      string
		typ       mortgage.Type
		wantCodes []mortgage.Code // sorted; nil means valid
	}{
		{registerdata.SampleFirstGeneral, mortgage.FirstGeneral, nil},
		{registerdata.SampleFirstMaximum, mortgage.FirstMaximum, nil},
		{registerdata.SampleJointMissing, mortgage.FirstGeneral, nil},
		{registerdata.SampleSeized, mortgage.FirstGeneral, nil},
		{registerdata.SampleCancellation, mortgage.Cancellation, nil},
		{registerdata.SampleInvalidFaults5, mortgage.FirstGeneral, []mortgage.Code{
			mortgage.CodeMaterialMissing, mortgage.CodeDebtPeriodOrder, mortgage.CodeAmountNotPositive,
			mortgage.CodeIDCheckDigit, mortgage.CodeUnitNumberFormat}},
	}
	if len(samples) != len(tests) {
		t.Errorf("got %d samples, want %d", len(samples), len(tests))
	}
	refs := map[string]bool{}
	units := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := samples[tc.name]
			if a == nil {
				t.Fatal("missing")
			}
			if a.Type != tc.typ {
				t.Errorf("type %s, want %s", a.Type, tc.typ)
			}
			if !regexp.MustCompile(`^LJB-20261126-\d{4}$`).MatchString(a.Reference) || refs[a.Reference] {
				t.Errorf("reference %q not a fresh LJB-20261126-NNNN", a.Reference)
			}
			refs[a.Reference] = true
			if a.Mortgagee.IDType != mortgage.IDCreditCode || a.Mortgagee.IDNumber != bank.CreditCode {
				t.Errorf("mortgagee %+v, want the demo bank %s", a.Mortgagee, bank.CreditCode)
			}
			for _, u := range a.Units {
				if other, dup := units[u.UnitNumber]; dup {
					t.Errorf("unit %s also used by %s", u.UnitNumber, other)
				}
				units[u.UnitNumber] = tc.name
			}
			is := mortgage.Validate(a, rules).Sorted()
			var codes []mortgage.Code
			for _, i := range is {
				codes = append(codes, i.Code)
			}
			slices.Sort(codes)
			want := slices.Clone(tc.wantCodes)
			slices.Sort(want)
			if !slices.Equal(codes, want) {
				t.Errorf("issues %v, want codes %v", is, want)
			}
		})
	}
}

func TestSampleBundlesMaterials(t *testing.T) {
	t.Parallel()
	demo, _ := demoFile(t, 100, 1)
	for name, a := range registerdata.SampleBundles(demo, today) {
		for _, m := range a.Materials {
			sum := sha256.Sum256(m.Content)
			if m.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("%s %s: declared sha256 does not match", name, m.Kind)
			}
			if m.MediaType != "application/pdf" || len(m.Content) > 2000 {
				t.Errorf("%s %s: %s of %d bytes, want a small PDF", name, m.Kind, m.MediaType, len(m.Content))
			}
			checkPDF(t, name+" "+m.Kind, m.Content)
		}
	}
}

// checkPDF checks a PDF's frame: header, trailer, and that every
// cross-reference entry points at its object.
func checkPDF(t *testing.T, name string, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
		t.Errorf("%s: not framed as a PDF 1.4 file", name)
		return
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(b)
	if m == nil {
		t.Errorf("%s: no startxref", name)
		return
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(b[xref:], []byte("xref\n0 6\n0000000000 65535 f \n")) {
		t.Errorf("%s: startxref %d does not point at the xref table", name, xref)
		return
	}
	entries := b[xref+len("xref\n0 6\n0000000000 65535 f \n"):]
	for i := 1; i <= 5; i++ {
		entry := string(entries[(i-1)*20 : i*20])
		off, err := strconv.Atoi(entry[:10])
		if err != nil || entry[10:] != " 00000 n \n" || !bytes.HasPrefix(b[off:], fmt.Appendf(nil, "%d 0 obj\n", i)) {
			t.Errorf("%s: xref entry %d %q does not point at object %d", name, i, entry, i)
		}
	}
	lm := regexp.MustCompile(`/Length (\d+) >>\nstream\n`).FindSubmatchIndex(b)
	if lm == nil {
		t.Errorf("%s: no content stream", name)
		return
	}
	n, _ := strconv.Atoi(string(b[lm[2]:lm[3]]))
	if !bytes.HasPrefix(b[lm[1]+n:], []byte("\nendstream")) {
		t.Errorf("%s: stream /Length %d is wrong", name, n)
	}
}

// TestSampleBundlesAgainstRegister submits every sample to the real
// registration service over an imported demo register.
func TestSampleBundlesAgainstRegister(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.Open(t)
	demo, file := demoFile(t, 300, 21)
	if _, err := registerdata.Import(ctx, d, bytes.NewReader(file), nil); err != nil {
		t.Fatalf("Import: %v", err)
	}
	for _, p := range demo.Partners {
		if _, err := d.Exec(`INSERT INTO partners (id, kind, name, credit_code) VALUES ($1, $2, $3, $4)`,
			p.ID, p.Kind, p.Name, p.CreditCode); err != nil {
			t.Fatal(err)
		}
	}
	loc := time.FixedZone("CST", 8*60*60)
	svc := mortgage.NewService(d, mortgage.Config{Province: "黑", City: "齐齐哈尔市", Authority: "齐齐哈尔市不动产登记中心",
		RecordingOfficer: "自动登簿", ObjectionPolicy: mortgage.ObjectionRefuse, Location: loc})
	svc.Now = func() time.Time { return time.Date(today.Year(), today.Month(), today.Day(), 10, 0, 0, 0, loc) }
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if svc.Signer, err = certkeys.Open(ctx, d, sealer); err != nil {
		t.Fatal(err)
	}
	render := func(dec *mortgage.Decision) (mortgage.Answer, error) {
		b, err := centrejson.EncodeDecision(dec, loc)
		return mortgage.Answer{Status: 201, Body: b}, err
	}
	bank := demo.Partners[0]
	sub := mortgage.Submitter{PartnerID: bank.ID, CreditCode: bank.CreditCode}
	samples := decoded(t, registerdata.SampleBundles(demo, today))

	tests := []struct {
		name       string
		wantStatus mortgage.Status
		wantCodes  []mortgage.Code
	}{
		{registerdata.SampleFirstGeneral, mortgage.StatusRegistered, nil},
		{registerdata.SampleFirstMaximum, mortgage.StatusRegistered, nil},
		{registerdata.SampleJointMissing, mortgage.StatusRejected, []mortgage.Code{mortgage.CodeCoOwnerMissing}},
		{registerdata.SampleSeized, mortgage.StatusRejected, []mortgage.Code{mortgage.CodeUnitSeized}},
		{registerdata.SampleCancellation, mortgage.StatusRegistered, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := svc.Submit(ctx, sub, samples[tc.name], render)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			var codes []mortgage.Code
			for _, r := range out.Decision.Reasons {
				codes = append(codes, r.Code)
			}
			if out.Decision.Status != tc.wantStatus || !slices.Equal(codes, tc.wantCodes) {
				t.Errorf("decision %s %v, want %s %v", out.Decision.Status, out.Decision.Reasons, tc.wantStatus, tc.wantCodes)
			}
		})
	}
	t.Run(registerdata.SampleInvalidFaults5, func(t *testing.T) {
		_, err := svc.Submit(ctx, sub, samples[registerdata.SampleInvalidFaults5], render)
		var ve *mortgage.ValidationError
		if !errors.As(err, &ve) || len(ve.Issues) != 5 {
			t.Errorf("Submit = %v, want a validation error with 5 issues", err)
		}
	})
}
