package mortgage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/lib/pq"
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

type unitRow struct {
	UnitNumber    string `db:"unit_number"`
	Location      string `db:"location"`
	Use           string `db:"use"`
	TitleNumber   string `db:"title_certificate_number"`
	OwnershipForm string `db:"ownership_form"`
	Mortgageable  bool   `db:"mortgageable"`
}

type ownerRow struct {
	UnitNumber string        `db:"unit_number"`
	Name       string        `db:"name"`
	IDNumber   string        `db:"id_number"`
	ShareNum   sql.NullInt64 `db:"share_numerator"`
	ShareDen   sql.NullInt64 `db:"share_denominator"`
}

// restrictionRow is one row of the combined restrictions query: a seizure,
// an objection, a pre-registration (with its holder) or the unit's top rank.
type restrictionRow struct {
	UnitNumber string `db:"unit_number"`
	Kind       string `db:"kind"`
	Value      string `db:"value"`
}

const (
	lockUnitsSQL = `SELECT unit_number, location, use, title_certificate_number, ownership_form, mortgageable
		FROM units WHERE unit_number = ANY($1) ORDER BY unit_number FOR UPDATE`
	ownersSQL = `SELECT unit_number, name, id_number, share_numerator, share_denominator
		FROM owners WHERE unit_number = ANY($1) ORDER BY unit_number, seq`
	// restrictionsSQL reads what stands on the units today (the
	// current_restrictions function of migration 0015, the one definition)
	// and each unit's top current rank, in one round trip.
	restrictionsSQL = `
		SELECT unit_number, kind, holder_id_number AS value FROM current_restrictions($2)
			WHERE unit_number = ANY($1)
		UNION ALL
		SELECT unit_number, 'rank', max(rank)::text FROM mortgage_units
			WHERE unit_number = ANY($1) AND current GROUP BY unit_number`
	// The certificate number is drawn last (store.Tx.DrawCertificate): until then
	// the new mortgage has none, which no other transaction ever sees.
	insertMortgageSQL = `INSERT INTO mortgages (certificate_number, kind, collateral_kind, principal_fen, maximum_fen,
			debt_start, debt_end, scope, transfer_restricted, mortgagors, debtors, mortgagee_name, mortgagee_id_number,
			state, registered_at, recording_officer)
		VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14)
		RETURNING id`
	insertMortgageUnitsSQL = `INSERT INTO mortgage_units (mortgage_id, unit_number, rank)
		SELECT $1, u, r FROM unnest($2::text[], $3::int[]) AS t(u, r)`
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
	var units []unitRow
	if err := tx.SelectContext(ctx, &units, lockUnitsSQL, pq.Array(numbers)); err != nil {
		return 0, nil, fmt.Errorf("lock units: %w", err)
	}
	var owners []ownerRow
	if err := tx.SelectContext(ctx, &owners, ownersSQL, pq.Array(numbers)); err != nil {
		return 0, nil, fmt.Errorf("read owners: %w", err)
	}
	var restrictions []restrictionRow
	if err := tx.SelectContext(ctx, &restrictions, restrictionsSQL, pq.Array(numbers), s.Today().Time); err != nil {
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
	var uses []string
	for i, ref := range app.Units {
		p := fmt.Sprintf("units[%d]", i)
		u, ok := byNumber[ref.UnitNumber]
		if !ok {
			is.Add(p+".unitNumber", CodeUnitNotFound, "登记簿中没有不动产单元 %s", ref.UnitNumber)
			continue
		}
		uses = append(uses, u.Use)
		if ref.TitleCertificateNumber != "" && normalCert(u.TitleNumber) != ref.TitleCertificateNumber {
			is.Add(p+".titleCertificateNumber", CodeTitleMismatch, "不动产权证书号与登记簿记载不一致")
		}
		if !u.Mortgageable {
			is.Add(p+".unitNumber", CodeUnitNotMortgageable, "该不动产依法不得抵押（如学校、医院、养老机构等公益设施）")
		}
		s.checkRestrictions(is, p, app, sub, restrictionsOf[u.UnitNumber])
		checkOwners(is, review, p, app, u, ownersOf[u.UnitNumber])
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
	var id int64
	if err := tx.GetContext(ctx, &id, insertMortgageSQL, kind, t.CollateralKind,
		nullFen(t.PrincipalFen), nullFen(t.MaximumFen), t.DebtStart.Time, t.DebtEnd.Time, t.Scope, *t.TransferRestricted,
		mortgagors, debtors, app.Mortgagee.Name, app.Mortgagee.IDNumber, now, review.officer); err != nil {
		return 0, nil, fmt.Errorf("insert mortgage: %w", err)
	}
	ranks := make([]int64, len(numbers))
	reg := &Registration{RegisteredAt: now, RecordingOfficer: review.officer}
	for i, n := range numbers {
		ranks[i] = int64(topRank[n] + 1)
		reg.Ranks = append(reg.Ranks, UnitRank{UnitNumber: n, Rank: int(ranks[i])})
	}
	if _, err := tx.ExecContext(ctx, insertMortgageUnitsSQL, id, pq.Array(numbers), pq.Array(ranks)); err != nil {
		return 0, nil, fmt.Errorf("insert mortgage units: %w", err)
	}
	d.Registration = reg
	fee := ComputeFee(app.Type, app.FeeExemption, uses, s.Config.FeePayer)
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

func nullFen(fen int64) sql.NullInt64 { return sql.NullInt64{Int64: fen, Valid: fen != 0} }

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

// checkOwners compares the mortgagors with the unit's registered owners:
// sole and joint ownership need every owner; ownership in shares needs every
// owner, or holders of at least two thirds with proof the others were told.
//
// Near matches — a name spelled differently, an old 15-digit ID — go to the
// desk when the rules say so, and pass when a person is approving.
func checkOwners(is *Issues, review *checks, p string, app *Application, u unitRow, owners []ownerRow) {
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
		applying[id] = true
		name := strings.TrimSpace(m.Name)
		switch {
		case !ok:
			is.Add(idField, CodeMortgagorNotOwner, "抵押人不是不动产单元 %s 的登记权利人", u.UnitNumber)
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
	} else if !app.HasMaterial("coowner_notice") {
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

const (
	lockMortgageSQL   = `SELECT id, state, mortgagee_id_number FROM mortgages WHERE certificate_number = $1 FOR UPDATE`
	mortgageUnitsSQL  = `SELECT unit_number FROM mortgage_units WHERE mortgage_id = $1 ORDER BY unit_number`
	cancelMortgageSQL = `WITH m AS (
			UPDATE mortgages SET state = 2, cancelled_at = $2, cancel_reason = $3, cancelled_by = $4 WHERE id = $1 RETURNING id)
		UPDATE mortgage_units SET current = false WHERE mortgage_id = (SELECT id FROM m)`
)

// cancel checks a cancellation and ends the mortgage, keeping its history;
// the mortgage's electronic certificate, if it has one, becomes cancelled
// and is returned.
func (s *Service) cancel(ctx context.Context, tx *ptx, sub Submitter, app *Application, d *Decision, review *checks) (int64, *IssuedCertificate, error) {
	c := app.Cancellation
	var m struct {
		ID        int64  `db:"id"`
		State     int    `db:"state"`
		Mortgagee string `db:"mortgagee_id_number"`
	}
	err := tx.GetContext(ctx, &m, lockMortgageSQL, c.CertificateNumber)
	is := &d.Reasons
	// A mortgage held by someone else is reported as not found: a partner
	// learns nothing about other banks' rights.
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sub.holds(m.Mortgagee)) {
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
		var units []string
		if err := tx.SelectContext(ctx, &units, mortgageUnitsSQL, m.ID); err != nil {
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
	if _, err := tx.ExecContext(ctx, cancelMortgageSQL, m.ID, d.DecidedAt, c.Reason, review.officer); err != nil {
		return 0, nil, fmt.Errorf("cancel mortgage: %w", err)
	}
	cert, err := cancelCertificate(ctx, tx, m.ID, d.DecidedAt)
	if err != nil {
		return 0, nil, err
	}
	d.Cancelled = &Cancelled{CertificateNumber: c.CertificateNumber, CancelledAt: d.DecidedAt, RecordingOfficer: review.officer}
	fee := ComputeFee(app.Type, "", nil, s.Config.FeePayer)
	d.Fee = &fee
	return m.ID, cert, nil
}
