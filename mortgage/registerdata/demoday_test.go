package registerdata_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/mortgage"
	"mortgaged/mortgage/registerdata"
	"mortgaged/partners/centrejson"
)

var shanghai = time.FixedZone("CST", 8*60*60)

// demoNow is a Thursday afternoon: the day the demo register is drawn as of.
var demoNow = time.Date(2026, time.November, 26, 14, 35, 0, 0, shanghai)

// roundTrip sends an application through the JSON v1 encoder and decoder.
func roundTrip(t *testing.T, a *mortgage.Application) *mortgage.Application {
	t.Helper()
	body, err := centrejson.EncodeApplication(a)
	if err != nil {
		t.Fatalf("%s: encode: %v", a.Reference, err)
	}
	got, is, err := centrejson.Decode(body)
	if err != nil || len(is) > 0 {
		t.Fatalf("%s: decode: %v %v", a.Reference, err, is)
	}
	return got
}

func TestDemoDay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		units int
		seed  int64
		now   time.Time
	}{
		{"thursday afternoon", 300, 21, demoNow},
		{"friday before dawn", 300, 21, time.Date(2026, time.November, 27, 4, 24, 0, 0, shanghai)},
		{"monday morning", 300, 21, time.Date(2026, time.November, 30, 9, 50, 0, 0, shanghai)},
		{"sunday", 300, 21, time.Date(2026, time.November, 29, 16, 0, 0, 0, shanghai)},
		{"smallest demo", registerdata.MinDemoUnits, 1, demoNow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			demo, _ := demoFile(t, tc.units, tc.seed)
			day := registerdata.DemoDay(demo, tc.now)
			today := mortgage.DateOf(tc.now, shanghai)
			midnight := time.Date(tc.now.Year(), tc.now.Month(), tc.now.Day(), 0, 0, 0, 0, shanghai)

			// Nothing the samples use: their references and units stay fresh.
			refs, units := map[string]bool{}, map[string]bool{}
			for _, a := range registerdata.SampleBundles(demo, today) {
				refs[a.Mortgagee.IDNumber+a.Reference] = true
				for _, u := range a.Units {
					units[u.UnitNumber] = true
				}
			}
			count := map[mortgage.Status]int{}
			partners := map[string]int{}
			var desk, deskToday []mortgage.Code
			var rejected []mortgage.Code
			for i, s := range day {
				a := roundTrip(t, s.App)
				if i > 0 && s.At.Before(day[i-1].At) {
					t.Errorf("%s at %s: out of order", a.Reference, s.At)
				}
				if !s.At.Before(tc.now) || s.At.Before(midnight.AddDate(0, 0, -7)) {
					t.Errorf("%s at %s: not in the week before %s", a.Reference, s.At, tc.now)
				}
				if s.At.Weekday() == time.Sunday && s.At.Before(midnight) {
					t.Errorf("%s at %s: on a past Sunday", a.Reference, s.At)
				}
				if is := mortgage.Validate(a, mortgage.Rules{Today: mortgage.DateOf(s.At, shanghai), PartnerCreditCode: s.Partner.CreditCode}); len(is) > 0 {
					t.Errorf("%s: %v", a.Reference, is)
				}
				if key := a.Mortgagee.IDNumber + a.Reference; refs[key] {
					t.Errorf("reference %s used twice", a.Reference)
				} else {
					refs[key] = true
				}
				if a.Mortgagee.IDNumber != s.Partner.CreditCode {
					t.Errorf("%s: mortgagee %s is not the submitter %s", a.Reference, a.Mortgagee.IDNumber, s.Partner.ID)
				}
				for _, u := range a.Units {
					if units[u.UnitNumber] {
						t.Errorf("%s: unit %s used twice or by a sample", a.Reference, u.UnitNumber)
					}
					units[u.UnitNumber] = true
				}
				count[s.Want]++
				switch s.Want {
				case mortgage.StatusRegistered:
					partners[s.Partner.ID]++
				case mortgage.StatusRejected:
					rejected = append(rejected, s.Codes...)
				case mortgage.StatusDesk:
					if s.At.Before(midnight) {
						desk = append(desk, s.Codes...)
					} else {
						deskToday = append(deskToday, s.Codes...)
					}
				}
			}
			if count[mortgage.StatusRegistered] < 24 || len(partners) != 3 {
				t.Errorf("%d registrations by %v, want a few dozen by all three partners", count[mortgage.StatusRegistered], partners)
			}
			slices.Sort(rejected)
			if want := []mortgage.Code{mortgage.CodeCoOwnerMissing, mortgage.CodeUnitSeized}; !slices.Equal(rejected, want) {
				t.Errorf("refusals %v, want %v", rejected, want)
			}
			if want := []mortgage.Code{mortgage.DeskPartnerRequested}; !slices.Equal(desk, want) {
				t.Errorf("desk before today %v, want %v", desk, want)
			}
			slices.Sort(deskToday)
			if want := []mortgage.Code{mortgage.DeskAmountReview, mortgage.DeskNameNearMatch, mortgage.DeskOldIDNumber,
				mortgage.DeskPartnerRequested, mortgage.DeskPromisedDocument}; !slices.Equal(deskToday, want) {
				t.Errorf("desk today %v, want %v", deskToday, want)
			}
		})
	}
}

// TestDemoDayNearMatch: the near match is a real owner's name in
// traditional characters, on a unit already mortgaged to another lender.
func TestDemoDayNearMatch(t *testing.T) {
	t.Parallel()
	demo, _ := demoFile(t, 300, 21)
	owners := map[string]registerdata.DemoUnit{}
	for _, u := range append(append([]registerdata.DemoUnit(nil), demo.Clean...), demo.Mortgaged...) {
		owners[u.UnitNumber] = u
	}
	var found bool
	for _, s := range registerdata.DemoDay(demo, demoNow) {
		if !slices.Contains(s.Codes, mortgage.DeskNameNearMatch) {
			continue
		}
		found = true
		u := owners[s.App.Units[0].UnitNumber]
		registered, written := u.Owners[0].Name, s.App.Mortgagors[0].Name
		if !mortgage.NamesNearlyMatch(registered, written) {
			t.Errorf("mortgagor %q, owner %q: not a near match", written, registered)
		}
		if len(u.Mortgages) != 1 || u.Mortgages[0].PartnerID == s.Partner.ID {
			t.Errorf("unit %s carries %v, want one mortgage of another lender", u.UnitNumber, u.Mortgages)
		}
		var image bool
		for _, m := range s.App.Materials {
			image = image || m.MediaType == "image/png"
		}
		if !image {
			t.Error("no scanned identity document to look at")
		}
		t.Logf("%s written %s", registered, written)
	}
	if !found {
		t.Error("no near match")
	}
}

// TestDemoDayAgainstRegister submits the week to the real registration
// service, each at its time, and gets the intended decisions: the bundle
// from before today is overdue now, today's are not.
func TestDemoDayAgainstRegister(t *testing.T) {
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
	svc := mortgage.NewService(d, mortgage.Config{Province: "黑", City: "齐齐哈尔市", Authority: "齐齐哈尔市不动产登记中心",
		RecordingOfficer: "自动登簿", ObjectionPolicy: mortgage.ObjectionRefuse, Location: shanghai})
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if svc.Signer, err = certkeys.Open(ctx, d, sealer); err != nil {
		t.Fatal(err)
	}
	render := func(dec *mortgage.Decision) (mortgage.Answer, error) {
		b, err := centrejson.EncodeDecision(dec, shanghai)
		return mortgage.Answer{Status: 201, Body: b}, err
	}
	midnight := time.Date(demoNow.Year(), demoNow.Month(), demoNow.Day(), 0, 0, 0, 0, shanghai)
	for _, s := range registerdata.DemoDay(demo, demoNow) {
		at := s.At
		svc.Now = func() time.Time { return at }
		out, err := svc.Submit(ctx, mortgage.Submitter{PartnerID: s.Partner.ID, CreditCode: s.Partner.CreditCode}, roundTrip(t, s.App), render)
		if err != nil {
			t.Fatalf("%s %s: %v", s.Partner.ID, s.App.Reference, err)
		}
		dec := out.Decision
		reasons := dec.Reasons
		if dec.Status == mortgage.StatusDesk {
			reasons = dec.DeskReasons
		}
		var codes []mortgage.Code
		for _, r := range reasons {
			codes = append(codes, r.Code)
		}
		if dec.Status != s.Want || !slices.Equal(codes, s.Codes) {
			t.Errorf("%s %s at %s: %s %v, want %s %v", s.Partner.ID, s.App.Reference, at.Format(time.DateTime), dec.Status, reasons, s.Want, s.Codes)
		}
		if dec.Status == mortgage.StatusDesk {
			if overdue := dec.Deadline.Before(demoNow); overdue != at.Before(midnight) {
				t.Errorf("%s received %s: deadline %s, overdue at %s: %v", s.App.Reference, at, dec.Deadline, demoNow, overdue)
			}
		}
	}
}
