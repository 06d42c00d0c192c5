package mortgage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"

	"mortgaged/mortgage/store"
)

// Register check codes: the application is well formed but the register says no.
const (
	CodeUnitNotFound          Code = "unit_not_found"
	CodeTitleMismatch         Code = "title_certificate_mismatch"
	CodeUnitNotMortgageable   Code = "unit_not_mortgageable"
	CodeUnitSeized            Code = "unit_seized"
	CodeUnitObjection         Code = "unit_objection"
	CodePreregistrationOther  Code = "preregistration_other_party"
	CodeMortgagorNotOwner     Code = "mortgagor_not_owner"
	CodeMortgagorNameMismatch Code = "mortgagor_name_mismatch"
	CodeCoOwnerMissing        Code = "co_owner_missing"
	CodeSharesInsufficient    Code = "shares_insufficient"
	CodeCoOwnerNoticeMissing  Code = "co_owner_notice_missing"
	CodeMortgageNotFound      Code = "mortgage_not_found"
	CodeMortgageNotCurrent    Code = "mortgage_not_current"
	CodeCancelUnitMismatch    Code = "cancellation_unit_mismatch"
)

// The register's rows, as the checks read them.
type (
	unitRow        = store.UnitRow
	ownerRow       = store.OwnerRow
	restrictionRow = store.RestrictionRow
)

// checks carries what the register checks need beyond the application.
type checks struct {
	rules     RoutingRules
	desk      Issues // differences for a person to judge, found so far
	approving bool   // a person is approving: near matches are accepted
	officer   string // the recording officer (登簿人)
}

// route sends the bundle to the desk for a reason, unless a person is
// already deciding it.
func (c *checks) route(field string, code Code, format string, args ...any) {
	if !c.approving {
		c.desk.Add(field, code, format, args...)
	}
}

// registerFirst checks a first registration against the locked register and,
// when nothing stands in the way, writes the mortgage right. Reasons go into d.
// It returns the new mortgage's id and its certificate's content, without
// a number: the caller draws it last (issueCertificate).
func (s *Service) registerFirst(ctx context.Context, tx *ptx, sub Submitter, app *Application, d *Decision, review *checks) (int64, *Certificate, error) {
	numbers := make([]string, len(app.Units))
	for i, u := range app.Units {
		numbers[i] = u.UnitNumber
	}
	slices.Sort(numbers) // ranks are reported in unit-number order, as they are read back
	// Locking in unit-number order means two bundles over the same units
	// queue rather than deadlock; the rank read below is then race-free (S5).
	units, err := tx.LockUnits(ctx, numbers)
	if err != nil {
		return 0, nil, fmt.Errorf("lock units: %w", err)
	}
	owners, err := tx.Owners(ctx, numbers)
	if err != nil {
		return 0, nil, fmt.Errorf("read owners: %w", err)
	}
	restrictions, err := tx.Restrictions(ctx, numbers, s.Today().Time)
	if err != nil {
		return 0, nil, fmt.Errorf("read restrictions: %w", err)
	}

	byNumber := map[string]unitRow{}
	for _, u := range units {
		byNumber[u.UnitNumber] = u
	}
	ownersOf := map[string][]ownerRow{}
	for _, o := range owners {
		ownersOf[o.UnitNumber] = append(ownersOf[o.UnitNumber], o)
	}
	topRank := map[string]int{}
	restrictionsOf := map[string][]restrictionRow{}
	for _, r := range restrictions {
		if r.Kind == "rank" {
			topRank[r.UnitNumber], _ = strconv.Atoi(r.Value)
			continue
		}
		restrictionsOf[r.UnitNumber] = append(restrictionsOf[r.UnitNumber], r)
	}

	is := &d.Reasons
	var feeUnits []FeeUnit
	// owns[i] is whether mortgagor i owns at least one of the units found:
	// in a joint mortgage (共同抵押) each owner pledges their own unit, and
	// the mortgagors are the union of the units' owners.
	owns := make([]bool, len(app.Mortgagors))
	var found []string
	for i, ref := range app.Units {
		p := fmt.Sprintf("units[%d]", i)
		u, ok := byNumber[ref.UnitNumber]
		if !ok {
			is.Add(p+".unitNumber", CodeUnitNotFound, "登记簿中没有不动产单元 %s", ref.UnitNumber)
			continue
		}
		feeUnits = append(feeUnits, FeeUnit{Number: ref.UnitNumber, Use: u.Use})
		if ref.TitleCertificateNumber != "" && normalCert(u.TitleNumber) != ref.TitleCertificateNumber {
			is.Add(p+".titleCertificateNumber", CodeTitleMismatch, "不动产权证书号与登记簿记载不一致")
		}
		if !u.Mortgageable {
			is.Add(p+".unitNumber", CodeUnitNotMortgageable, "该不动产依法不得抵押（如学校、医院、养老机构等公益设施）")
		}
		s.checkRestrictions(is, p, app, sub, restrictionsOf[u.UnitNumber])
		checkOwners(is, review, p, app, u, ownersOf[u.UnitNumber], owns, s.Config.Strict.CoOwnerNotice)
		found = append(found, u.UnitNumber)
	}
	if len(found) > 0 {
		for i, ok := range owns {
			if !ok {
				is.Add(fmt.Sprintf("mortgagors[%d].idNumber", i), CodeMortgagorNotOwner, "抵押人不是不动产单元 %s 的登记权利人", strings.Join(found, "、"))
			}
		}
	}
	review.desk = review.desk.unique()
	if len(*is) > 0 || (len(review.desk) > 0 && !review.approving) {
		return 0, nil, nil // refused, or waiting for a person: nothing is written into the register
	}

	t := app.Mortgage
	kind := "general"
	if app.Type == FirstMaximum {
		kind = "maximum"
	}
	now := d.DecidedAt
	mortgagors, _ := json.Marshal(app.Mortgagors)
	debtors, _ := json.Marshal(app.Debtors)
	id, err := tx.InsertMortgage(ctx, store.NewMortgage{Kind: kind, CollateralKind: t.CollateralKind,
		PrincipalFen: t.PrincipalFen, MaximumFen: t.MaximumFen, DebtStart: t.DebtStart.Time, DebtEnd: t.DebtEnd.Time,
		Scope: t.Scope, TransferRestricted: *t.TransferRestricted, Mortgagors: mortgagors, Debtors: debtors,
		MortgageeName: app.Mortgagee.Name, MortgageeID: app.Mortgagee.IDNumber, RegisteredAt: now, RecordingOfficer: review.officer})
	if err != nil {
		return 0, nil, fmt.Errorf("insert mortgage: %w", err)
	}
	ranks := make([]int64, len(numbers))
	reg := &Registration{RegisteredAt: now, RecordingOfficer: review.officer}
	for i, n := range numbers {
		ranks[i] = int64(topRank[n] + 1)
		reg.Ranks = append(reg.Ranks, UnitRank{UnitNumber: n, Rank: int(ranks[i])})
	}
	if err := tx.InsertMortgageUnits(ctx, id, numbers, ranks); err != nil {
		return 0, nil, fmt.Errorf("insert mortgage units: %w", err)
	}
	d.Registration = reg
	fee := ComputeFee(app.Type, app.FeeExemption, feeUnits)
	d.Fee = &fee
	return id, s.newCertificate(app, reg, byNumber), nil
}

// issueCertificate draws the certificate's number for the registration in
// d, writes it on the mortgage, and signs the certificate. Should the
// transaction then roll back, tx records the number as a gap.
func (s *Service) issueCertificate(ctx context.Context, tx *ptx, mortgageID int64, d *Decision, c *Certificate) (*IssuedCertificate, error) {
	now := d.DecidedAt
	year := now.In(s.Config.Location).Year()
	number, err := tx.DrawCertificate(ctx, s.certificatePrefix(year), s.Config.Authority, year, mortgageID)
	if err != nil {
		return nil, fmt.Errorf("draw certificate number: %w", err)
	}
	d.Registration.CertificateNumber, c.Number = number, number
	cert, err := SignCertificate(c, s.Signer)
	if err != nil {
		return nil, err
	}
	cert.IssuedAt = now
	return cert, nil
}

func normalCert(s string) string {
	if c, err := ParseCertificateNumber(s); err == nil {
		return c.String()
	}
	return s
}

func (s *Service) checkRestrictions(is *Issues, p string, app *Application, sub Submitter, rs []restrictionRow) {
	ours := map[string]bool{sub.CreditCode: true, app.Mortgagee.IDNumber: true}
	for _, m := range app.Mortgagors {
		ours[m.IDNumber] = true
	}
	seized, objected, foreignPrereg := false, false, false
	for _, r := range rs {
		switch r.Kind {
		case "seizure":
			seized = true
		case "objection":
			objected = true
		case "preregistration":
			foreignPrereg = foreignPrereg || !ours[r.Value]
		}
	}
	if seized {
		is.Add(p+".unitNumber", CodeUnitSeized, "该不动产已被查封，不能办理抵押登记")
	}
	if objected {
		switch s.Config.ObjectionPolicy {
		case ObjectionAllow:
		case ObjectionUndertaking:
			if !app.HasMaterial("objection_undertaking") {
				is.Add(p+".unitNumber", CodeUnitObjection, "该不动产存在异议登记，须提交异议登记期间风险自担承诺书（objection_undertaking）")
			}
		default:
			is.Add(p+".unitNumber", CodeUnitObjection, "该不动产存在异议登记，异议期间不予办理抵押登记")
		}
	}
	if foreignPrereg && !app.HasMaterial("preregistration_consent") {
		is.Add(p+".unitNumber", CodePreregistrationOther, "该不动产存在他人的预告登记，须提交预告登记权利人同意书（preregistration_consent）")
	}
}

// checkOwners compares the unit's registered owners with those of the
// mortgagors who own it: sole and joint ownership need every owner; ownership
// in shares needs every owner, or holders of at least two thirds
// (民法典第三百零一条), with proof the others were told only when the strict
// rule notice is on. A mortgagor who does not own this unit may own
// another unit of the same loan (共同抵押); owns[i] records that mortgagor i
// owns this one, and the caller refuses those who own none.
//
// Near matches — a name spelled differently, an old 15-digit ID — go to the
// desk when the rules say so, and pass when a person is approving.
func checkOwners(is *Issues, review *checks, p string, app *Application, u unitRow, owners []ownerRow, owns []bool, notice bool) {
	owner := map[string]ownerRow{}
	for _, o := range owners {
		owner[strings.ToUpper(o.IDNumber)] = o
	}
	applying := map[string]bool{}
	for i, m := range app.Mortgagors {
		id := strings.ToUpper(m.IDNumber)
		idField, nameField := fmt.Sprintf("mortgagors[%d].idNumber", i), fmt.Sprintf("mortgagors[%d].name", i)
		o, ok := owner[id]
		if full, old := UpgradeResidentID(id); !ok && old && (review.rules.OldIDNumber || review.approving) {
			if o, ok = owner[full]; ok {
				id = full
				review.route(idField, DeskOldIDNumber, "抵押人使用旧 15 位身份证号码，登记簿记载的是 18 位号码（不动产单元 %s），须人工核对", u.UnitNumber)
			}
		}
		if !ok {
			continue // not this unit's owner: perhaps another unit's
		}
		owns[i] = true
		applying[id] = true
		name := strings.TrimSpace(m.Name)
		switch {
		case SameName(o.Name, name):
		case NamesNearlyMatch(o.Name, name) && (review.rules.NameNearMatch || review.approving):
			review.route(nameField, DeskNameNearMatch, "抵押人姓名与登记簿记载仅在全半角、空格或繁简字上不同（不动产单元 %s），须人工核对", u.UnitNumber)
		default:
			is.Add(nameField, CodeMortgagorNameMismatch, "抵押人姓名与登记簿记载不一致（不动产单元 %s）", u.UnitNumber)
		}
	}
	var missing int
	held := new(big.Rat)
	for _, o := range owners {
		if applying[strings.ToUpper(o.IDNumber)] {
			if o.ShareDen.Valid {
				held.Add(held, big.NewRat(o.ShareNum.Int64, o.ShareDen.Int64))
			}
		} else {
			missing++
		}
	}
	if missing == 0 {
		return
	}
	if u.OwnershipForm != "shares" {
		is.Add(p+".unitNumber", CodeCoOwnerMissing, "该不动产为%s，全体共有人须共同作为抵押人（缺少 %d 人）", formLabel(u.OwnershipForm), missing)
		return
	}
	if held.Cmp(big.NewRat(2, 3)) < 0 {
		is.Add(p+".unitNumber", CodeSharesInsufficient, "按份共有不动产须由占份额三分之二以上的共有人抵押（现为 %s）", held.RatString())
	} else if notice && !app.HasMaterial("coowner_notice") {
		is.Add(p+".unitNumber", CodeCoOwnerNoticeMissing, "其他按份共有人未作为抵押人，须提交已书面通知其他共有人的证明（coowner_notice）")
	}
}

func formLabel(form string) string {
	switch form {
	case "joint":
		return "共同共有"
	case "sole":
		return "单独所有"
	}
	return "按份共有"
}

// cancel checks a cancellation and ends the mortgage, keeping its history;
// the mortgage's electronic certificate, if it has one, becomes cancelled
// and is returned.
func (s *Service) cancel(ctx context.Context, tx *ptx, sub Submitter, app *Application, d *Decision, review *checks) (int64, *IssuedCertificate, error) {
	c := app.Cancellation
	m, err := tx.LockMortgage(ctx, c.CertificateNumber)
	is := &d.Reasons
	// A mortgage held by someone else is reported as not found: a partner
	// learns nothing about other banks' rights.
	if errors.Is(err, store.ErrNoRows) || (err == nil && !sub.holds(m.Mortgagee)) {
		is.Add("cancellation.certificateNumber", CodeMortgageNotFound, "未找到贵机构作为抵押权人、证明号为 %s 的抵押权", c.CertificateNumber)
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock mortgage: %w", err)
	}
	if m.State != 1 {
		is.Add("cancellation.certificateNumber", CodeMortgageNotCurrent, "该抵押权已注销或不是现势状态")
		return 0, nil, nil
	}
	if len(app.Units) > 0 {
		units, err := tx.MortgageUnits(ctx, m.ID)
		if err != nil {
			return 0, nil, fmt.Errorf("read mortgage units: %w", err)
		}
		given := make([]string, len(app.Units))
		for i, u := range app.Units {
			given[i] = u.UnitNumber
		}
		sort.Strings(given)
		for i := range units {
			units[i] = strings.TrimSpace(units[i])
		}
		if strings.Join(given, ",") != strings.Join(units, ",") {
			is.Add("units", CodeCancelUnitMismatch, "所列不动产单元与该抵押权登记的单元不一致")
			return 0, nil, nil
		}
	}
	if err := tx.CancelMortgage(ctx, m.ID, d.DecidedAt, c.Reason, review.officer); err != nil {
		return 0, nil, fmt.Errorf("cancel mortgage: %w", err)
	}
	cert, err := cancelCertificate(ctx, tx, m.ID, d.DecidedAt)
	if err != nil {
		return 0, nil, err
	}
	d.Cancelled = &Cancelled{CertificateNumber: c.CertificateNumber, CancelledAt: d.DecidedAt, RecordingOfficer: review.officer}
	fee := ComputeFee(app.Type, "", nil)
	d.Fee = &fee
	return m.ID, cert, nil
}
