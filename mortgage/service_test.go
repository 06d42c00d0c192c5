package mortgage_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mortgaged/mortgage"
)

func TestRegisterFirstGeneral(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	d := e.decide(e.general(u))
	if d.Status != mortgage.StatusRegistered || len(d.Reasons) != 0 {
		t.Fatalf("status %s reasons %v, want registered", d.Status, d.Reasons)
	}
	r := d.Registration
	if r.CertificateNumber != "黑(2026)齐齐哈尔市不动产证明第0000001号" {
		t.Errorf("certificate number %q", r.CertificateNumber)
	}
	if want := []mortgage.UnitRank{{UnitNumber: u.number, Rank: 1}}; !slices.Equal(r.Ranks, want) {
		t.Errorf("ranks %v, want %v", r.Ranks, want)
	}
	if r.RecordingOfficer != "自动登簿" || !r.RegisteredAt.Equal(testNow) {
		t.Errorf("recorded by %q at %v", r.RecordingOfficer, r.RegisteredAt)
	}
	if d.Fee == nil || d.Fee.AmountFen != 80_00 || d.Fee.Basis != mortgage.FeeBasisResidential {
		t.Errorf("fee %+v, want 80.00 residential", d.Fee)
	}
	// The register now holds the right, with the debtors defaulted to the mortgagors.
	var m struct {
		Kind     string `db:"kind"`
		Fen      int64  `db:"principal_fen"`
		State    int    `db:"state"`
		Debtors  string `db:"debtors"`
		Restrict bool   `db:"transfer_restricted"`
		Scope    string `db:"scope"`
	}
	if err := e.db.Get(&m, `SELECT kind, principal_fen, state, debtors::text, transfer_restricted, scope FROM mortgages WHERE certificate_number = $1`, r.CertificateNumber); err != nil {
		t.Fatal(err)
	}
	if m.Kind != "general" || m.Fen != 500_000_00 || m.State != 1 || !m.Restrict || m.Scope == "" {
		t.Errorf("mortgage row %+v", m)
	}
	if !strings.Contains(m.Debtors, zhang.IDNumber) {
		t.Errorf("debtors %s, want the mortgagor", m.Debtors)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE subject = $1 AND action = 'bundle.registered'`, d.BundleID); n != 1 {
		t.Errorf("%d audit records, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE subject = $1 AND type = 'bundle.registered' AND partner_id = 'lj-bank' AND status = 'pending'`, d.BundleID); n != 1 {
		t.Errorf("%d outbox events for the registration, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM materials WHERE bundle_id = $1`, d.BundleID); n != 3 {
		t.Errorf("%d materials stored, want 3", n)
	}
	// The partner reads the same decision back, by id and by reference.
	for _, get := range []func() (*mortgage.Decision, error){
		func() (*mortgage.Decision, error) { return e.svc.Bundle(t.Context(), "lj-bank", d.BundleID) },
		func() (*mortgage.Decision, error) {
			return e.svc.BundleByReference(t.Context(), "lj-bank", d.Reference)
		},
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if got.Registration == nil || got.Registration.CertificateNumber != r.CertificateNumber || !slices.Equal(got.Registration.Ranks, r.Ranks) || got.Fee.AmountFen != 80_00 {
			t.Errorf("read back %+v", got)
		}
	}
	// Another partner cannot see it.
	if _, err := e.svc.Bundle(t.Context(), "hc-bank", d.BundleID); !errors.Is(err, mortgage.ErrNotFound) {
		t.Errorf("other partner reading the bundle: %v, want ErrNotFound", err)
	}
}

func TestRegisterFirstMaximumAndFees(t *testing.T) {
	t.Parallel()
	e := setup(t)
	shop := e.addUnit(unit{use: "commercial", owners: []owner{{party: firm}}})
	a := e.general(shop)
	a.Type = mortgage.FirstMaximum
	a.Mortgage.MaximumFen, a.Mortgage.PrincipalFen = 3_000_000_00, 0
	a.Materials = []mortgage.Material{doc("application_form"), doc("maximum_mortgage_contract")}
	d := e.decide(a)
	if d.Status != mortgage.StatusRegistered || d.Fee.AmountFen != 550_00 || d.Fee.Basis != mortgage.FeeBasisNonResidential {
		t.Fatalf("maximum on a shop: %s %v fee %+v, want registered at 550.00", d.Status, d.Reasons, d.Fee)
	}
	var max int64
	if err := e.db.Get(&max, `SELECT maximum_fen FROM mortgages WHERE certificate_number = $1`, d.Registration.CertificateNumber); err != nil || max != 3_000_000_00 {
		t.Errorf("maximum amount %d (%v)", max, err)
	}

	// A small or micro enterprise pays nothing; the exemption is recorded.
	shop2 := e.addUnit(unit{use: "commercial", owners: []owner{{party: firm}}})
	a = e.general(shop2)
	a.FeeExemption = mortgage.FeeExemptionSME
	a.Materials = append(a.Materials, doc(mortgage.MaterialSMEProof))
	d = e.decide(a)
	if d.Status != mortgage.StatusRegistered || d.Fee.AmountFen != 0 || d.Fee.Basis != mortgage.FeeBasisSME {
		t.Errorf("SME exemption: %s fee %+v", d.Status, d.Fee)
	}
	var rule string
	if err := e.db.Get(&rule, `SELECT rule FROM fees WHERE bundle_id = $1`, d.BundleID); err != nil || !strings.Contains(rule, "2559") || !strings.Contains(rule, "小微企业") {
		t.Errorf("SME fee record's rule %q (%v), want the exemption's legal basis", rule, err)
	}
	// Without evidence the bank's word is not enough.
	shop3 := e.addUnit(unit{use: "commercial", owners: []owner{{party: firm}}})
	a = e.general(shop3)
	a.FeeExemption = mortgage.FeeExemptionSME
	var invalid *mortgage.ValidationError
	if _, err := e.submitAs(submitter, a); !errors.As(err, &invalid) || !slices.Contains(codes(invalid.Issues), mortgage.CodeFeeExemption) {
		t.Errorf("SME exemption without evidence: %v, want refused with %s", err, mortgage.CodeFeeExemption)
	}
	// A garage is charged as residential.
	garage := e.addUnit(unit{use: "garage", owners: []owner{{party: zhang}}})
	if d := e.decide(e.general(garage)); d.Fee.AmountFen != 80_00 {
		t.Errorf("garage fee %+v, want 80.00", d.Fee)
	}
	if n := e.count(`SELECT count(*) FROM fees`); n != 3 {
		t.Errorf("%d fee rows, want 3", n)
	}
}

func TestRegisterChecks(t *testing.T) {
	t.Parallel()
	type tc struct {
		name  string
		build func(e *env) *mortgage.Application
		want  []mortgage.Code
	}
	cases := []tc{
		{"OK", func(e *env) *mortgage.Application { return e.general(e.soleUnit(zhang)) }, nil},
		{"ErrUnitNotFound", func(e *env) *mortgage.Application {
			return e.general(unit{number: "230202001001GB99999F00019999", title: "黑(2020)齐齐哈尔市不动产权第0999999号", owners: []owner{{party: zhang}}})
		}, []mortgage.Code{mortgage.CodeUnitNotFound}},
		{"ErrTitleMismatch", func(e *env) *mortgage.Application {
			a := e.general(e.soleUnit(zhang))
			a.Units[0].TitleCertificateNumber = "黑(2019)齐齐哈尔市不动产权第0000009号"
			return a
		}, []mortgage.Code{mortgage.CodeTitleMismatch}},
		{"OKTitleFullWidthBrackets", func(e *env) *mortgage.Application {
			u := e.soleUnit(zhang)
			a := e.general(u)
			a.Units[0].TitleCertificateNumber = "黑（2020）" + u.title[len("黑(2020)"):]
			return a
		}, nil},
		{"ErrNotMortgageable", func(e *env) *mortgage.Application {
			return e.general(e.addUnit(unit{use: "other", noMortgage: true, owners: []owner{{party: firm}}}))
		}, []mortgage.Code{mortgage.CodeUnitNotMortgageable}},
		{"ErrSeized", func(e *env) *mortgage.Application {
			u := e.soleUnit(zhang)
			e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from, seized_until) VALUES ($1, '齐齐哈尔市龙沙区人民法院', '(2026)黑0202执1号', '2026-01-01', '2029-01-01')`, u.number)
			return e.general(u)
		}, []mortgage.Code{mortgage.CodeUnitSeized}},
		{"OKSeizureLifted", func(e *env) *mortgage.Application {
			u := e.soleUnit(zhang)
			e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from, lifted_at) VALUES ($1, '法院', '(2025)黑0202执2号', '2025-01-01', '2026-01-01')`, u.number)
			return e.general(u)
		}, nil},
		{"OKSeizureExpired", func(e *env) *mortgage.Application {
			u := e.soleUnit(zhang)
			e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from, seized_until) VALUES ($1, '法院', '(2022)黑0202执3号', '2022-01-01', '2025-01-01')`, u.number)
			return e.general(u)
		}, nil},
		{"ErrObjection", func(e *env) *mortgage.Application {
			u := e.soleUnit(zhang)
			e.exec(`INSERT INTO objections (unit_number, applicant, matter, registered_on, expires_on) VALUES ($1, '赵某', '主张共有', '2026-11-20', '2026-12-05')`, u.number)
			return e.general(u)
		}, []mortgage.Code{mortgage.CodeUnitObjection}},
		{"ErrOtherPartyPreregistration", func(e *env) *mortgage.Application {
			u := e.soleUnit(zhang)
			e.exec(`INSERT INTO preregistrations (unit_number, kind, holder_name, holder_id_type, holder_id_number, registered_on) VALUES ($1, 'purchase', $2, '1', $3, '2026-10-01')`, u.number, wang.Name, wang.IDNumber)
			return e.general(u)
		}, []mortgage.Code{mortgage.CodePreregistrationOther}},
		{"OKOtherPartyPreregistrationWithConsent", func(e *env) *mortgage.Application {
			u := e.soleUnit(zhang)
			e.exec(`INSERT INTO preregistrations (unit_number, kind, holder_name, holder_id_type, holder_id_number, registered_on) VALUES ($1, 'purchase', $2, '1', $3, '2026-10-01')`, u.number, wang.Name, wang.IDNumber)
			a := e.general(u)
			a.Materials = append(a.Materials, doc("preregistration_consent"))
			return a
		}, nil},
		{"OKOwnPreregistration", func(e *env) *mortgage.Application {
			u := e.soleUnit(zhang)
			e.exec(`INSERT INTO preregistrations (unit_number, kind, holder_name, holder_id_type, holder_id_number, registered_on) VALUES ($1, 'purchase', $2, '1', $3, '2026-10-01')`, u.number, zhang.Name, zhang.IDNumber)
			return e.general(u)
		}, nil},
		{"ErrMortgagorNotOwner", func(e *env) *mortgage.Application {
			return e.general(e.soleUnit(zhang), li)
		}, []mortgage.Code{mortgage.CodeCoOwnerMissing, mortgage.CodeMortgagorNotOwner}},
		{"ErrMortgagorNameMismatch", func(e *env) *mortgage.Application {
			renamed := zhang
			renamed.Name = "张玮"
			return e.general(e.soleUnit(zhang), renamed)
		}, []mortgage.Code{mortgage.CodeMortgagorNameMismatch}},
		{"OKJointAllOwners", func(e *env) *mortgage.Application {
			return e.general(e.addUnit(unit{form: "joint", owners: []owner{{party: zhang}, {party: li}}}))
		}, nil},
		{"ErrJointMissingCoOwner", func(e *env) *mortgage.Application {
			return e.general(e.addUnit(unit{form: "joint", owners: []owner{{party: zhang}, {party: li}}}), zhang)
		}, []mortgage.Code{mortgage.CodeCoOwnerMissing}},
		{"OKSharesTwoThirdsWithNotice", func(e *env) *mortgage.Application {
			a := e.general(e.addUnit(unit{form: "shares", owners: []owner{{zhang, [2]int{2, 3}}, {li, [2]int{1, 3}}}}), zhang)
			a.Materials = append(a.Materials, doc("coowner_notice"))
			return a
		}, nil},
		// 民法典第三百零一条 asks for two thirds, not for proof the others were
		// told: that is the strict rule coowner_notice, off by default.
		{"OKSharesTwoThirdsWithoutNoticeByDefault", func(e *env) *mortgage.Application {
			return e.general(e.addUnit(unit{form: "shares", owners: []owner{{zhang, [2]int{2, 3}}, {li, [2]int{1, 3}}}}), zhang)
		}, nil},
		{"ErrSharesTwoThirdsWithoutNotice", func(e *env) *mortgage.Application {
			e.svc.Config.Strict.CoOwnerNotice = true
			return e.general(e.addUnit(unit{form: "shares", owners: []owner{{zhang, [2]int{2, 3}}, {li, [2]int{1, 3}}}}), zhang)
		}, []mortgage.Code{mortgage.CodeCoOwnerNoticeMissing}},
		{"ErrSharesInsufficient", func(e *env) *mortgage.Application {
			a := e.general(e.addUnit(unit{form: "shares", owners: []owner{{zhang, [2]int{1, 2}}, {li, [2]int{1, 2}}}}), zhang)
			a.Materials = append(a.Materials, doc("coowner_notice"))
			return a
		}, []mortgage.Code{mortgage.CodeSharesInsufficient}},
		// 共同抵押: one loan, 张伟 pledges his unit and 李娜 hers.
		{"OKJointMortgageDifferentOwners", func(e *env) *mortgage.Application {
			return e.joint(e.soleUnit(zhang), e.soleUnit(li))
		}, nil},
		{"OKJointMortgageCoOwnedAndSole", func(e *env) *mortgage.Application {
			return e.joint(e.addUnit(unit{form: "joint", owners: []owner{{party: zhang}, {party: li}}}), e.soleUnit(wang))
		}, nil},
		{"ErrJointMortgageOwnerOfNone", func(e *env) *mortgage.Application {
			return e.joint(e.soleUnit(zhang), e.soleUnit(li), zhang, li, wang)
		}, []mortgage.Code{mortgage.CodeMortgagorNotOwner}},
		{"ErrJointMortgageOwnerMissing", func(e *env) *mortgage.Application {
			a := e.joint(e.soleUnit(zhang), e.soleUnit(li))
			a.Mortgagors = a.Mortgagors[:1]
			return a
		}, []mortgage.Code{mortgage.CodeCoOwnerMissing}},
		{"ErrJointMortgageCoOwnerMissing", func(e *env) *mortgage.Application {
			return e.joint(e.addUnit(unit{form: "joint", owners: []owner{{party: zhang}, {party: li}}}), e.soleUnit(wang), zhang, wang)
		}, []mortgage.Code{mortgage.CodeCoOwnerMissing}},
		{"ErrJointMortgageNameMismatch", func(e *env) *mortgage.Application {
			renamed := li
			renamed.Name = "李那"
			return e.joint(e.soleUnit(zhang), e.soleUnit(li), zhang, renamed)
		}, []mortgage.Code{mortgage.CodeMortgagorNameMismatch}},
		{"ErrEveryReasonAtOnce", func(e *env) *mortgage.Application {
			u := e.addUnit(unit{form: "joint", owners: []owner{{party: zhang}, {party: li}}})
			e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from) VALUES ($1, '法院', '(2026)黑0202执4号', '2026-01-01')`, u.number)
			a := e.general(u, zhang, wang)
			a.Units[0].TitleCertificateNumber = "黑(2019)齐齐哈尔市不动产权第0000009号"
			return a
		}, []mortgage.Code{mortgage.CodeMortgagorNotOwner, mortgage.CodeTitleMismatch, mortgage.CodeCoOwnerMissing, mortgage.CodeUnitSeized}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			a := c.build(e)
			d := e.decide(a)
			got := codes(d.Reasons)
			slices.Sort(got)
			want := append([]mortgage.Code{}, c.want...)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("reasons %v, want %v (%v)", got, want, d.Reasons)
			}
			wantStatus := mortgage.StatusRegistered
			if len(c.want) > 0 {
				wantStatus = mortgage.StatusRejected
			}
			if d.Status != wantStatus {
				t.Errorf("status %s, want %s", d.Status, wantStatus)
			}
			for _, r := range d.Reasons {
				if r.Field == "" || r.Message == "" {
					t.Errorf("reason without field or message: %+v", r)
				}
			}
			// A refusal writes no right and no fee, but keeps the bundle and its reasons.
			mortgages := e.count(`SELECT count(*) FROM mortgages`)
			if (wantStatus == mortgage.StatusRejected) != (mortgages == 0) {
				t.Errorf("%d mortgages after a %s decision", mortgages, wantStatus)
			}
			if n := e.count(`SELECT count(*) FROM bundles WHERE status = $1`, wantStatus); n != 1 {
				t.Errorf("%d %s bundles, want 1", n, wantStatus)
			}
		})
	}
}

func TestObjectionPolicy(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		policy      mortgage.ObjectionPolicy
		undertaking bool
		want        mortgage.Status
	}{
		{mortgage.ObjectionRefuse, true, mortgage.StatusRejected},
		{mortgage.ObjectionUndertaking, false, mortgage.StatusRejected},
		{mortgage.ObjectionUndertaking, true, mortgage.StatusRegistered},
		{mortgage.ObjectionAllow, false, mortgage.StatusRegistered},
	} {
		t.Run(fmt.Sprintf("%s/undertaking=%v", c.policy, c.undertaking), func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.svc.Config.ObjectionPolicy = c.policy
			u := e.soleUnit(zhang)
			e.exec(`INSERT INTO objections (unit_number, applicant, matter, registered_on) VALUES ($1, '赵某', '主张共有', '2026-11-20')`, u.number)
			a := e.general(u)
			if c.undertaking {
				a.Materials = append(a.Materials, doc("objection_undertaking"))
			}
			if d := e.decide(a); d.Status != c.want {
				t.Errorf("status %s (%v), want %s", d.Status, d.Reasons, c.want)
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	first := e.decide(e.general(u))
	second := e.decide(e.general(u))
	if second.Registration.Ranks[0].Rank != 2 {
		t.Fatalf("second mortgage rank %d, want 2", second.Registration.Ranks[0].Rank)
	}
	cert := first.Registration.CertificateNumber

	t.Run("ErrNotYours", func(t *testing.T) {
		other := mortgage.Submitter{PartnerID: "hc-bank", CreditCode: otherBank}
		a := e.cancellation(cert)
		a.Mortgagee = hcBank
		out, err := e.submitAs(other, a)
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(out.Decision.Reasons); !slices.Equal(got, []mortgage.Code{mortgage.CodeMortgageNotFound}) {
			t.Errorf("reasons %v, want mortgage_not_found", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		d := e.decide(e.cancellation("黑(2026)齐齐哈尔市不动产证明第0999999号"))
		if got := codes(d.Reasons); !slices.Equal(got, []mortgage.Code{mortgage.CodeMortgageNotFound}) {
			t.Errorf("reasons %v", got)
		}
	})
	t.Run("ErrUnitMismatch", func(t *testing.T) {
		a := e.cancellation(cert)
		a.Units = []mortgage.UnitRef{{UnitNumber: "230202001001GB99999F00019999"}}
		d := e.decide(a)
		if got := codes(d.Reasons); !slices.Equal(got, []mortgage.Code{mortgage.CodeCancelUnitMismatch}) {
			t.Errorf("reasons %v", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		e.now = testNow.Add(time.Hour)
		a := e.cancellation("黑（2026）齐齐哈尔市不动产证明第0000001号") // full-width brackets name the same certificate
		a.Units = []mortgage.UnitRef{{UnitNumber: u.number}}
		d := e.decide(a)
		if d.Status != mortgage.StatusRegistered || d.Cancelled == nil || d.Cancelled.CertificateNumber != cert {
			t.Fatalf("cancellation %s %v %+v", d.Status, d.Reasons, d.Cancelled)
		}
		if d.Fee == nil || d.Fee.AmountFen != 0 || d.Fee.Basis != mortgage.FeeBasisCancellation {
			t.Errorf("cancellation fee %+v, want free", d.Fee)
		}
		var m struct {
			State  int       `db:"state"`
			At     time.Time `db:"cancelled_at"`
			Reason string    `db:"cancel_reason"`
		}
		if err := e.db.Get(&m, `SELECT state, cancelled_at, cancel_reason FROM mortgages WHERE certificate_number = $1`, cert); err != nil {
			t.Fatal(err)
		}
		if m.State != 2 || !m.At.Equal(e.now) || m.Reason != "主债权已清偿" {
			t.Errorf("cancelled mortgage %+v", m)
		}
		// History is kept: the unit row survives, no longer current.
		if n := e.count(`SELECT count(*) FROM mortgage_units WHERE unit_number = $1 AND NOT current`, u.number); n != 1 {
			t.Errorf("%d historical unit rows, want 1", n)
		}
		got, err := e.svc.Bundle(t.Context(), "lj-bank", d.BundleID)
		if err != nil || got.Cancelled == nil || !got.Cancelled.CancelledAt.Equal(e.now) || got.Cancelled.RecordingOfficer != "自动登簿" {
			t.Errorf("read back cancellation %+v %v", got, err)
		}
	})
	t.Run("ErrNotCurrent", func(t *testing.T) {
		d := e.decide(e.cancellation(cert))
		if got := codes(d.Reasons); !slices.Equal(got, []mortgage.Code{mortgage.CodeMortgageNotCurrent}) {
			t.Errorf("reasons %v", got)
		}
	})
	t.Run("NewRankAfterCurrentOnes", func(t *testing.T) {
		d := e.decide(e.general(u))
		if r := d.Registration.Ranks[0].Rank; r != 3 {
			t.Errorf("rank %d after cancelling rank 1 of 2, want 3", r)
		}
	})
}

// TestCancelledTopRankNotReused: ranks are never reused (docs/DECISIONS.md,
// 民法典第四百一十四条). Cancelling the top mortgage does not free its
// number: the next mortgage ranks above every mortgage ever registered on
// the unit, cancelled ones included.
func TestCancelledTopRankNotReused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	e.decide(e.general(u))
	second := e.decide(e.general(u))
	if r := second.Registration.Ranks[0].Rank; r != 2 {
		t.Fatalf("second mortgage rank %d, want 2", r)
	}
	e.now = testNow.Add(time.Hour)
	a := e.cancellation(second.Registration.CertificateNumber)
	a.Units = []mortgage.UnitRef{{UnitNumber: u.number}}
	if d := e.decide(a); d.Status != mortgage.StatusRegistered || d.Cancelled == nil {
		t.Fatalf("cancelling rank 2: %s %v", d.Status, d.Reasons)
	}
	third := e.decide(e.general(u))
	if third.Status != mortgage.StatusRegistered {
		t.Fatalf("third mortgage %s %v", third.Status, third.Reasons)
	}
	if r := third.Registration.Ranks[0].Rank; r != 3 {
		t.Errorf("rank %d after cancelling the top rank 2, want 3 (a cancelled rank is not reused)", r)
	}
}

func TestCertificateSerialPerYear(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	e.decide(e.general(u))
	e.decide(e.general(u))
	e.now = time.Date(2027, 1, 1, 0, 5, 0, 0, shanghai) // five past midnight, business time
	a := e.general(u)
	a.Mortgage.DebtStart = mortgage.NewDate(2027, 1, 1)
	d := e.decide(a)
	if got := d.Registration.CertificateNumber; got != "黑(2027)齐齐哈尔市不动产证明第0000001号" {
		t.Errorf("first number of 2027: %q", got)
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	a := e.general(u)
	first, err := e.submitAs(submitter, a)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ReplaySameAnswer", func(t *testing.T) {
		again := e.general(u)
		again.Reference = a.Reference
		out, err := e.submitAs(submitter, again)
		if err != nil {
			t.Fatal(err)
		}
		if !out.Replayed || out.Answer.Status != first.Answer.Status || string(out.Answer.Body) != string(first.Answer.Body) {
			t.Errorf("replay %+v, want the first answer %q", out, first.Answer.Body)
		}
	})
	t.Run("ErrConflictOnChangedContent", func(t *testing.T) {
		changed := e.general(u)
		changed.Reference = a.Reference
		changed.Mortgage.PrincipalFen++
		_, err := e.submitAs(submitter, changed)
		var ce *mortgage.ConflictError
		if !errors.As(err, &ce) || ce.BundleID != first.Decision.BundleID {
			t.Fatalf("changed content under the same reference: %v, want a conflict naming %s", err, first.Decision.BundleID)
		}
	})
	t.Run("SameReferenceOtherPartner", func(t *testing.T) {
		other := e.general(e.soleUnit(li))
		other.Reference = a.Reference
		other.Mortgagee = hcBank
		out, err := e.submitAs(mortgage.Submitter{PartnerID: "hc-bank", CreditCode: otherBank}, other)
		if err != nil || out.Replayed {
			t.Fatalf("another partner's equal reference: %+v %v, want its own decision", out, err)
		}
	})
	if n := e.count(`SELECT count(*) FROM mortgages`); n != 2 {
		t.Errorf("%d mortgages, want 2", n)
	}
}

func TestConcurrentIdenticalSubmissions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	a := e.general(u)
	const n = 50
	outs := make([]mortgage.Outcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			copy := *a
			outs[i], errs[i] = e.submitAs(submitter, &copy)
		})
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		if !outs[i].Replayed {
			fresh++
		}
		if string(outs[i].Answer.Body) != string(outs[0].Answer.Body) {
			t.Errorf("answer %d differs: %q vs %q", i, outs[i].Answer.Body, outs[0].Answer.Body)
		}
	}
	if fresh != 1 {
		t.Errorf("%d fresh decisions, want 1", fresh)
	}
	if got := e.count(`SELECT count(*) FROM bundles`); got != 1 {
		t.Errorf("%d bundles, want 1", got)
	}
	if got := e.count(`SELECT count(*) FROM mortgages`); got != 1 {
		t.Errorf("%d mortgages, want 1", got)
	}
}

func TestConcurrentRanksOnOneUnit(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		a := e.general(u)
		wg.Go(func() {
			_, errs[i] = e.submitAs(submitter, a)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var ranks []int
	if err := e.db.Select(&ranks, `SELECT rank FROM mortgage_units WHERE unit_number = $1 ORDER BY rank`, u.number); err != nil {
		t.Fatal(err)
	}
	for i, r := range ranks {
		if r != i+1 {
			t.Fatalf("ranks %v, want 1..%d without gaps or duplicates", ranks, n)
		}
	}
	if len(ranks) != n {
		t.Fatalf("%d ranks, want %d", len(ranks), n)
	}
	var serials []string
	if err := e.db.Select(&serials, `SELECT certificate_number FROM mortgages ORDER BY certificate_number`); err != nil {
		t.Fatal(err)
	}
	if len(slices.Compact(slices.Clone(serials))) != n {
		t.Errorf("certificate numbers not distinct: %v", serials)
	}
}

func TestValidationErrorWritesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.general(e.soleUnit(zhang))
	a.Mortgage.PrincipalFen = 0
	_, err := e.submitAs(submitter, a)
	var ve *mortgage.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v, want a validation error", err)
	}
	for _, table := range []string{"bundles", "mortgages", "materials", "audit_log", "fees", "events"} {
		if n := e.count(`SELECT count(*) FROM ` + table); n != 0 {
			t.Errorf("%d rows in %s after a validation error", n, table)
		}
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.decide(e.general(e.soleUnit(zhang)))
	for _, q := range []string{`UPDATE audit_log SET actor = 'x'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := e.db.Exec(q); err == nil {
			t.Errorf("%s succeeded on the audit log", q)
		}
	}
}

// TestFirstRegistrationsOfANewYearRace: many registrations racing to be the
// first of a year all get numbers, distinct and gap-free.
func TestFirstRegistrationsOfANewYearRace(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.now = time.Date(2027, 1, 4, 9, 0, 0, 0, shanghai)
	const n = 12
	apps := make([]*mortgage.Application, n)
	for i := range apps {
		apps[i] = e.general(e.soleUnit(zhang))
		apps[i].Mortgage.DebtStart = mortgage.NewDate(2027, 1, 4)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = e.submitAs(submitter, apps[i]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var numbers []string
	if err := e.db.Select(&numbers, `SELECT certificate_number FROM mortgages ORDER BY certificate_number`); err != nil {
		t.Fatal(err)
	}
	for i, num := range numbers {
		if want := fmt.Sprintf("黑(2027)齐齐哈尔市不动产证明第%07d号", i+1); num != want {
			t.Fatalf("numbers %v, want 1..%d", numbers, n)
		}
	}
}
