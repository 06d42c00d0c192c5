package mortgage_test

import (
	"errors"
	"slices"
	"testing"

	"mortgaged/mortgage"
)

// branch is a branch of lj-bank with its own credit code, listed by the
// administrator as one of the bank's mortgagees.
var branch = mortgage.Party{Name: "龙江示范银行股份有限公司齐齐哈尔龙沙支行", IDType: mortgage.IDCreditCode, IDNumber: creditCode("91230202MA1BRCH01")}

// TestMortgageeIsThePartner: a partner registers mortgages only under a
// name and credit code it is registered as, the pair together (PROMISES S8).
func TestMortgageeIsThePartner(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.exec(`INSERT INTO partner_mortgagees (partner_id, credit_code, name) VALUES ('lj-bank', $1, $2)`, branch.IDNumber, branch.Name)
	refused := func(t *testing.T, sub mortgage.Submitter, a *mortgage.Application, field string) {
		t.Helper()
		before := e.count(`SELECT count(*) FROM mortgages`) + e.count(`SELECT count(*) FROM bundles`)
		_, err := e.submitAs(sub, a)
		var ve *mortgage.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("submit: %v, want a validation error", err)
		}
		if !slices.ContainsFunc(ve.Issues, func(i mortgage.Issue) bool { return i.Field == field && i.Code == mortgage.CodeMortgageeMismatch }) {
			t.Errorf("issues %+v, want %s mortgagee_not_partner", ve.Issues, field)
		}
		if after := e.count(`SELECT count(*) FROM mortgages`) + e.count(`SELECT count(*) FROM bundles`); after != before {
			t.Errorf("refused submission wrote %d rows", after-before)
		}
	}
	// Both as the partner API calls it (identities from authentication)
	// and as other callers do (Submit reads them).
	withIDs := submitter
	withIDs.Mortgagees = []mortgage.Mortgagee{{Name: bank.Name, CreditCode: bankCode}, {Name: branch.Name, CreditCode: branch.IDNumber}}
	for name, sub := range map[string]mortgage.Submitter{"read": submitter, "given": withIDs} {
		t.Run(name, func(t *testing.T) {
			t.Run("ErrOtherBanksNameWithOwnCode", func(t *testing.T) {
				a := e.general(e.soleUnit(zhang))
				a.Mortgagee.Name = hcBank.Name
				refused(t, sub, a, "mortgagee.name")
			})
			t.Run("ErrOtherBanksCode", func(t *testing.T) {
				a := e.general(e.soleUnit(zhang))
				a.Mortgagee = hcBank
				refused(t, sub, a, "mortgagee.idNumber")
			})
			t.Run("ErrBranchCodeWithOwnName", func(t *testing.T) {
				a := e.general(e.soleUnit(zhang))
				a.Mortgagee.IDNumber = branch.IDNumber
				refused(t, sub, a, "mortgagee.name")
			})
			t.Run("OKBranch", func(t *testing.T) {
				a := e.general(e.soleUnit(zhang))
				a.Mortgagee = branch
				out, err := e.submitAs(sub, a)
				if err != nil || out.Decision.Status != mortgage.StatusRegistered {
					t.Fatalf("branch as mortgagee: %+v %v, want registered", out.Decision, err)
				}
				var holder string
				if err := e.db.Get(&holder, `SELECT mortgagee_name FROM mortgages WHERE certificate_number = $1`, out.Decision.Registration.CertificateNumber); err != nil || holder != branch.Name {
					t.Errorf("register holds %q (%v), want the branch", holder, err)
				}
				// The bank cancels its branch's mortgage; another bank cannot.
				c := e.cancellation(out.Decision.Registration.CertificateNumber)
				c.Mortgagee = hcBank
				other, err := e.submitAs(mortgage.Submitter{PartnerID: "hc-bank", CreditCode: otherBank}, c)
				if err != nil || !slices.Equal(codes(other.Decision.Reasons), []mortgage.Code{mortgage.CodeMortgageNotFound}) {
					t.Fatalf("another bank cancelling: %+v %v, want mortgage_not_found", other.Decision, err)
				}
				c = e.cancellation(out.Decision.Registration.CertificateNumber)
				c.Mortgagee = branch
				if d, err := e.submitAs(sub, c); err != nil || d.Decision.Status != mortgage.StatusRegistered {
					t.Fatalf("cancel the branch's mortgage: %+v %v", d.Decision, err)
				}
			})
		})
	}
}

// TestOwnMortgageeFollowsThePartner: the partner's own name and code is one
// of its identities however the partner row is written, and follows it.
func TestOwnMortgageeFollowsThePartner(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.exec(`UPDATE partners SET name = '龙江示范银行股份有限公司' WHERE id = 'lj-bank'`)
	ms, err := e.svc.PartnerMortgagees(t.Context(), "lj-bank")
	if err != nil {
		t.Fatal(err)
	}
	if want := []mortgage.Mortgagee{{Name: "龙江示范银行股份有限公司", CreditCode: bankCode}}; !slices.Equal(ms, want) {
		t.Fatalf("mortgagees %+v, want %+v", ms, want)
	}
	a := e.general(e.soleUnit(zhang)) // still the old name
	if _, err := e.submitAs(submitter, a); err == nil {
		t.Error("the partner's former name is still accepted")
	}
}
