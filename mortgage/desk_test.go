package mortgage_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"mortgaged/mortgage"
)

var (
	reviewer   = mortgage.Officer{Username: "liuyang", DisplayName: "刘洋", Role: "reviewer"}
	reviewer2  = mortgage.Officer{Username: "sunli", DisplayName: "孙丽", Role: "reviewer"}
	auditor    = mortgage.Officer{Username: "zhouqi", DisplayName: "周琦", Role: "auditor"}
	supervisor = mortgage.Officer{Username: "wugang", DisplayName: "吴刚", Role: "supervisor"}
)

func TestDeskRouting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		build func(e *env) *mortgage.Application
		want  []mortgage.Code
	}{
		{"PromisedDocument", func(e *env) *mortgage.Application {
			a := e.general(e.soleUnit(zhang))
			a.Promises = []mortgage.Promise{{Kind: "business_licence", DueOn: mortgage.NewDate(2026, 11, 30)}} // comes later
			return a
		}, []mortgage.Code{mortgage.DeskPromisedDocument}},
		{"NameNearMatch", func(e *env) *mortgage.Application {
			traditional := zhang
			traditional.Name = "張偉"
			return e.general(e.soleUnit(zhang), traditional)
		}, []mortgage.Code{mortgage.DeskNameNearMatch}},
		{"OldIDNumber", func(e *env) *mortgage.Application {
			owner := mortgage.Party{Name: "赵敏", IDType: mortgage.IDResident, IDNumber: mortgage.Must(mortgage.UpgradeResidentID("230202650304123"))}
			old := owner
			old.IDNumber = "230202650304123"
			return e.general(e.soleUnit(owner), old)
		}, []mortgage.Code{mortgage.DeskOldIDNumber}},
		{"AmountReview", func(e *env) *mortgage.Application {
			a := e.general(e.soleUnit(zhang))
			a.Mortgage.PrincipalFen = 20_000_000_00 // 20 million yuan, above the 10 million line
			return a
		}, []mortgage.Code{mortgage.DeskAmountReview}},
		{"PartnerRequested", func(e *env) *mortgage.Application {
			a := e.general(e.soleUnit(zhang))
			a.ReviewRequest = "借款人为外籍人士，请人工核对护照信息"
			return a
		}, []mortgage.Code{mortgage.DeskPartnerRequested}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			d := e.decide(c.build(e))
			if d.Status != mortgage.StatusDesk || !slices.Equal(codes(d.DeskReasons), c.want) {
				t.Fatalf("status %s desk reasons %v reasons %v, want desk %v", d.Status, d.DeskReasons, d.Reasons, c.want)
			}
			// Received 10:00 on a Thursday, before the cut-off: due the same day at the close.
			if want := time.Date(2026, 11, 26, 17, 30, 0, 0, shanghai); d.Deadline == nil || !d.Deadline.Equal(want) {
				t.Errorf("deadline %v, want %v", d.Deadline, want)
			}
			if n := e.count(`SELECT count(*) FROM mortgages`); n != 0 {
				t.Errorf("%d mortgages registered for a bundle at the desk", n)
			}
			if n := e.count(`SELECT count(*) FROM events WHERE type = 'bundle.desk' AND subject = $1`, d.BundleID); n != 1 {
				t.Errorf("%d bundle.desk events, want 1", n)
			}
			got, err := e.svc.Bundle(t.Context(), "lj-bank", d.BundleID)
			if err != nil || got.Status != mortgage.StatusDesk || got.Deadline == nil || !slices.Equal(codes(got.DeskReasons), c.want) {
				t.Errorf("partner's view %+v, %v", got, err)
			}
		})
	}
}

func TestHardFailureIsNotRouted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.soleUnit(zhang)
	e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from) VALUES ($1, '法院', '(2026)黑0202执9号', '2026-01-01')`, u.number)
	traditional := zhang
	traditional.Name = "張偉"
	d := e.decide(e.general(u, traditional))
	if d.Status != mortgage.StatusRejected || !slices.Contains(codes(d.Reasons), mortgage.CodeUnitSeized) {
		t.Errorf("seized unit with a near-match name: %s %v, want rejected for the seizure", d.Status, d.Reasons)
	}
}

func TestRoutingRulesAreData(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.exec(`UPDATE routing_rules SET enabled = false WHERE kind = 'name_near_match'`)
	traditional := zhang
	traditional.Name = "張偉"
	d := e.decide(e.general(e.soleUnit(zhang), traditional))
	if d.Status != mortgage.StatusRejected || !slices.Equal(codes(d.Reasons), []mortgage.Code{mortgage.CodeMortgagorNameMismatch}) {
		t.Errorf("near match with the rule off: %s %v, want refused", d.Status, d.Reasons)
	}
	e.exec(`UPDATE routing_rules SET params = '{"allowed": ["business_licence"], "maxWorkingDays": 3}' WHERE kind = 'promised_document'`)
	e.svc.InvalidateRouting()
	a := e.general(e.soleUnit(zhang))
	a.Promises = []mortgage.Promise{{Kind: "identity_document", DueOn: mortgage.NewDate(2026, 12, 31)}}
	_, err := e.submitAs(submitter, a)
	var ve *mortgage.ValidationError
	if !errors.As(err, &ve) || !slices.Equal(codes(ve.Issues), []mortgage.Code{mortgage.CodePromiseNotAllowed, mortgage.CodePromiseDue}) {
		t.Errorf("promise outside the rules: %v, want promise_not_allowed and promise_due_date", err)
	}
}

func TestDeadlineAfterCutOff(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.now = time.Date(2026, 11, 27, 16, 30, 0, 0, shanghai) // Friday after the cut-off
	a := e.general(e.soleUnit(zhang))
	a.ReviewRequest = "请人工审核"
	d := e.decide(a)
	// Saturday is a service day by default (周六全天办).
	if want := time.Date(2026, 11, 28, 17, 30, 0, 0, shanghai); d.Deadline == nil || !d.Deadline.Equal(want) {
		t.Errorf("deadline %v, want %v", d.Deadline, want)
	}
}

func deskBundle(t *testing.T, e *env) *mortgage.Decision {
	t.Helper()
	traditional := zhang
	traditional.Name = "張偉"
	d := e.decide(e.general(e.soleUnit(zhang), traditional))
	if d.Status != mortgage.StatusDesk {
		t.Fatalf("setup: %s %v", d.Status, d.Reasons)
	}
	return d
}

func TestApprove(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := deskBundle(t, e)
	if _, err := e.svc.Approve(t.Context(), d.BundleID, auditor); !errors.Is(err, mortgage.ErrForbidden) {
		t.Errorf("auditor approving: %v, want ErrForbidden", err)
	}
	e.now = testNow.Add(2 * time.Hour)
	got, err := e.svc.Approve(t.Context(), d.BundleID, reviewer)
	if err != nil {
		t.Fatal(err)
	}
	r := got.Registration
	if got.Status != mortgage.StatusRegistered || r == nil || r.RecordingOfficer != "刘洋" || !r.RegisteredAt.Equal(e.now) {
		t.Fatalf("approved %+v", got)
	}
	var officer, decidedBy string
	if err := e.db.QueryRow(`SELECT m.recording_officer, b.decided_by FROM bundles b JOIN mortgages m ON m.id = b.mortgage_id WHERE b.id = $1`, d.BundleID).Scan(&officer, &decidedBy); err != nil {
		t.Fatal(err)
	}
	if officer != "刘洋" || decidedBy != "liuyang" {
		t.Errorf("register says 登簿人 %q decided by %q", officer, decidedBy)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM certificates WHERE bundle_id = $1`:                        1,
		`SELECT count(*) FROM events WHERE subject = $1 AND type = 'bundle.registered'`: 1,
		`SELECT count(*) FROM fees WHERE bundle_id = $1`:                                1,
		`SELECT count(*) FROM audit_log WHERE subject = $1 AND actor = 'staff:liuyang'`: 1,
	} {
		if n := e.count(q, d.BundleID); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
	if _, err := e.svc.Approve(t.Context(), d.BundleID, reviewer2); !errors.Is(err, mortgage.ErrNotAtDesk) {
		t.Errorf("approving again: %v, want ErrNotAtDesk", err)
	}
	if _, err := e.svc.Withdraw(t.Context(), "lj-bank", d.BundleID); !errors.Is(err, mortgage.ErrNotAtDesk) {
		t.Errorf("withdrawing a decided bundle: %v, want ErrNotAtDesk", err)
	}
}

// TestApproveRace: two reviewers click at the same moment; one registration.
func TestApproveRace(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := deskBundle(t, e)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []mortgage.Officer{reviewer, reviewer2} {
		wg.Go(func() { _, errs[i] = e.svc.Approve(t.Context(), d.BundleID, who) })
	}
	wg.Wait()
	ok, lost := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, mortgage.ErrNotAtDesk):
			lost++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || lost != 1 || e.count(`SELECT count(*) FROM mortgages`) != 1 || e.count(`SELECT count(*) FROM certificates`) != 1 {
		t.Errorf("%d approvals, %d too late, %d mortgages; want exactly one registration", ok, lost, e.count(`SELECT count(*) FROM mortgages`))
	}
}

func TestApproveBlockedByNewSeizure(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := deskBundle(t, e)
	e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from)
		SELECT (application->'units'->0->>'unitNumber'), '法院', '(2026)黑0202执10号', '2026-11-26' FROM bundles WHERE id = $1`, d.BundleID)
	_, err := e.svc.Approve(t.Context(), d.BundleID, reviewer)
	var blocked *mortgage.ApprovalBlockedError
	if !errors.As(err, &blocked) || !slices.Contains(codes(blocked.Reasons), mortgage.CodeUnitSeized) {
		t.Fatalf("approving after a seizure: %v", err)
	}
	if n := e.count(`SELECT count(*) FROM bundles WHERE status = 'desk'`); n != 1 {
		t.Errorf("the bundle left the desk after a blocked approval")
	}
}

func TestRefuseAndWithdraw(t *testing.T) {
	t.Parallel()
	e := setup(t)
	refused := deskBundle(t, e)
	if _, err := e.svc.Refuse(t.Context(), refused.BundleID, reviewer, []mortgage.Code{"bogus"}, ""); !errors.Is(err, mortgage.ErrInvalidInput) {
		t.Errorf("unknown refusal code: %v", err)
	}
	d, err := e.svc.Refuse(t.Context(), refused.BundleID, reviewer, []mortgage.Code{"identity_not_confirmed"}, "姓名写法与身份证不一致")
	if err != nil || d.Status != mortgage.StatusRejected || len(d.Reasons) != 1 || d.Reasons[0].Message != "未能核实抵押人身份：姓名写法与身份证不一致" {
		t.Fatalf("refused %+v %v", d, err)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE subject = $1 AND type = 'bundle.rejected'`, refused.BundleID); n != 1 {
		t.Errorf("%d rejection events", n)
	}

	withdrawn := deskBundle(t, e)
	if _, err := e.svc.Withdraw(t.Context(), "hc-bank", withdrawn.BundleID); !errors.Is(err, mortgage.ErrNotFound) {
		t.Errorf("another partner withdrawing: %v, want ErrNotFound", err)
	}
	d, err = e.svc.Withdraw(t.Context(), "lj-bank", withdrawn.BundleID)
	if err != nil || d.Status != mortgage.StatusWithdrawn {
		t.Fatalf("withdraw: %+v %v", d, err)
	}
	if _, err := e.svc.Approve(t.Context(), withdrawn.BundleID, reviewer); !errors.Is(err, mortgage.ErrNotAtDesk) {
		t.Errorf("approving a withdrawn bundle: %v", err)
	}
	if n := e.count(`SELECT count(*) FROM mortgages`); n != 0 {
		t.Errorf("%d mortgages after a refusal and a withdrawal", n)
	}
}

func TestSupplyPromisedMaterial(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.widenPromises("business_licence", "loan_contract")
	a := e.general(e.soleUnit(zhang))
	a.Materials = []mortgage.Material{a.Materials[0], a.Materials[2]}
	a.Promises = []mortgage.Promise{{Kind: "loan_contract", DueOn: mortgage.NewDate(2026, 11, 30)}}
	d := e.decide(a)
	if _, err := e.svc.SupplyMaterial(t.Context(), "hc-bank", d.BundleID, doc("loan_contract")); !errors.Is(err, mortgage.ErrNotFound) {
		t.Errorf("another partner supplying: %v", err)
	}
	var ve *mortgage.ValidationError
	if _, err := e.svc.SupplyMaterial(t.Context(), "lj-bank", d.BundleID, doc("business_licence")); !errors.As(err, &ve) {
		t.Errorf("supplying what was not promised: %v", err)
	}
	bad := doc("loan_contract")
	bad.SHA256 = "00"
	if _, err := e.svc.SupplyMaterial(t.Context(), "lj-bank", d.BundleID, bad); !errors.As(err, &ve) {
		t.Errorf("a wrong hash: %v", err)
	}
	got, err := e.svc.SupplyMaterial(t.Context(), "lj-bank", d.BundleID, doc("loan_contract"))
	if err != nil || len(got.Promises) != 1 || got.Promises[0].FulfilledAt == nil {
		t.Fatalf("after supplying: %+v %v", got, err)
	}
	if n := e.count(`SELECT count(*) FROM materials WHERE bundle_id = $1`, d.BundleID); n != 3 {
		t.Errorf("%d materials, want 3", n)
	}
	if _, err := e.svc.Approve(t.Context(), d.BundleID, reviewer); err != nil {
		t.Errorf("approving once the document arrived: %v", err)
	}
}
