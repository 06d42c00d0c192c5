package mortgage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mortgaged/internal/db"
	"mortgaged/internal/fault"
	"mortgaged/mortgage/store"
)

// Officer is a member of the centre's staff acting at the desk.
type Officer struct {
	Username    string // who, for the audit trail
	DisplayName string // recorded as 登簿人 on what they approve
	Role        string // reviewer, supervisor or auditor
}

// Desk errors.
var (
	// ErrNotAtDesk: the bundle was already decided or withdrawn — for
	// example by another reviewer a moment earlier.
	ErrNotAtDesk = &fault.Error{Kind: fault.Conflict, Code: CodeNotAtDesk, Title: "业务件已不在人工审核中", Detail: "该业务件已作出决定或已撤回，不能再补交材料或撤回。",
		Err: errors.New("bundle is no longer at the desk")}
	// ErrForbidden: the officer's role does not allow the action.
	ErrForbidden = errors.New("role does not allow this action")
)

// ApprovalBlockedError says the register no longer allows the bundle (a
// seizure since it arrived, say); staff must refuse it instead.
type ApprovalBlockedError struct{ Reasons Issues }

func (e *ApprovalBlockedError) Error() string {
	return fmt.Sprintf("the register does not allow this bundle: %d reason(s)", len(e.Reasons))
}

// RefusalReasons are the codes staff choose from when refusing, with the
// Chinese text the partner reads.
var RefusalReasons = map[Code]string{
	"documents_not_supplied": "承诺的材料未按期补交",
	"documents_invalid":      "提交的材料不符合要求",
	"identity_not_confirmed": "未能核实抵押人身份",
	"not_registered_owner":   "抵押人与登记簿记载的权利人不一致",
	"amount_not_confirmed":   "担保金额或期限未能核实",
	"register_restriction":   "不动产存在限制登记的情形",
	"applicant_request":      "申请人要求撤回",
	"other":                  "其他原因（见说明）",
}

// PromiseOpenError says a document promised under 容缺受理 that the
// registration needs has not arrived: the bundle waits for it (or is
// refused with documents_not_supplied), it is not registered without it.
type PromiseOpenError struct{ Reasons Issues }

func (e *PromiseOpenError) Error() string {
	return fmt.Sprintf("promised documents the registration needs are still owed: %d", len(e.Reasons))
}

// deskBundle is the stored bundle as the desk needs it.
type deskBundle = store.DeskBundle

// lockDeskBundle locks a bundle that must still be at the desk. Two
// reviewers clicking at once queue here; the second finds it decided.
func lockDeskBundle(ctx context.Context, tx *ptx, id string) (deskBundle, error) {
	b, err := tx.LockDeskBundle(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return b, ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("lock bundle: %w", err)
	}
	if Status(b.Status) != StatusDesk {
		return b, ErrNotAtDesk
	}
	return b, nil
}

// Approve registers a bundle at the desk through the same checks and
// registration as automatic registration, recorded under the officer's
// name. It registers exactly once however many reviewers click.
func (s *Service) Approve(ctx context.Context, bundleID string, by Officer) (*Decision, error) {
	if by.Role != "reviewer" && by.Role != "supervisor" {
		return nil, ErrForbidden
	}
	var d *Decision
	err := s.inTx(ctx, nil, func(tx *ptx) (err error) {
		d, err = s.approve(ctx, tx, bundleID, by)
		return err
	})
	return d, err
}

func (s *Service) approve(ctx context.Context, tx *ptx, bundleID string, by Officer) (*Decision, error) {
	b, err := lockDeskBundle(ctx, tx, bundleID)
	if err != nil {
		return nil, err
	}
	var app Application
	if err := json.Unmarshal(b.Application, &app); err != nil {
		return nil, fmt.Errorf("bundle %s application: %w", b.ID, err)
	}
	// Supplied documents count; the stored application lists only the first ones.
	kinds, err := tx.MaterialKinds(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	app.Materials = nil
	for _, k := range kinds {
		app.Materials = append(app.Materials, Material{Kind: k})
	}
	// 容缺受理 accepts first; it does not register without what the
	// registration needs.
	if is := openNeededPromises(&app, s.Config.Strict); len(is) > 0 {
		return nil, &PromiseOpenError{Reasons: is.Sorted()}
	}
	now := s.Now().Truncate(time.Microsecond)
	sub, err := s.withMortgagees(ctx, Submitter{PartnerID: b.PartnerID, CreditCode: b.CreditCode})
	if err != nil {
		return nil, err
	}
	d := &Decision{BundleID: b.ID, Reference: app.Reference, Type: app.Type, ReceivedAt: b.ReceivedAt, DecidedAt: now, Reasons: Issues{}}
	review := checks{approving: true, officer: by.DisplayName}
	var mortgageID int64
	var issued, cancelled *IssuedCertificate
	var draft *Certificate
	if app.Type.IsFirst() {
		mortgageID, draft, err = s.registerFirst(ctx, tx, sub, &app, d, &review)
	} else {
		mortgageID, cancelled, err = s.cancel(ctx, tx, sub, &app, d, &review)
	}
	if err != nil {
		return nil, err
	}
	if len(d.Reasons) > 0 {
		return nil, &ApprovalBlockedError{Reasons: d.Reasons.Sorted()}
	}
	d.Status = StatusRegistered
	if draft != nil {
		if issued, err = s.issueCertificate(ctx, tx, mortgageID, d, draft); err != nil {
			return nil, err
		}
	}
	if err := tx.RecordApproval(ctx, b.ID, mortgageID, now, by.Username); err != nil {
		return nil, fmt.Errorf("record approval: %w", err)
	}
	if d.Fee != nil {
		if err := tx.InsertFee(ctx, b.ID, d.Fee.record(), now); err != nil {
			return nil, fmt.Errorf("insert fee: %w", err)
		}
	}
	if issued != nil {
		if err := insertCertificate(ctx, tx, issued, b.ID, mortgageID, sub.PartnerID); err != nil {
			return nil, err
		}
	}
	if err := tx.Audit(ctx, db.AuditEntry{At: now, Actor: "staff:" + by.Username, Action: "desk.approved", Subject: b.ID,
		Detail: map[string]any{"officer": by.DisplayName}}); err != nil {
		return nil, err
	}
	if err := s.enqueue(ctx, tx, decisionEvents(sub, d, issued, cancelled)...); err != nil {
		return nil, err
	}
	return d, nil
}

// Refuse refuses a bundle at the desk with reason codes from RefusalReasons
// and a note for the partner.
func (s *Service) Refuse(ctx context.Context, bundleID string, by Officer, codes []Code, note string) (*Decision, error) {
	if by.Role != "reviewer" && by.Role != "supervisor" {
		return nil, ErrForbidden
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("%w: at least one refusal reason", ErrInvalidInput)
	}
	note = strings.TrimSpace(note)
	var reasons Issues
	for _, c := range codes {
		text, ok := RefusalReasons[c]
		if !ok {
			return nil, fmt.Errorf("%w: unknown refusal reason %q", ErrInvalidInput, c)
		}
		if note != "" {
			text += "：" + note
		}
		reasons = append(reasons, Issue{Field: "desk", Code: c, Message: text})
	}
	return s.closeDesk(ctx, bundleID, StatusRejected, "staff:"+by.Username, by.Username, reasons, note)
}

// ErrInvalidInput marks a request the caller must correct.
var ErrInvalidInput = errors.New("invalid input")

// Withdraw lets the partner take back its own bundle before staff decide.
func (s *Service) Withdraw(ctx context.Context, partnerID, bundleID string) (*Decision, error) {
	owner, err := s.store().BundleOwner(ctx, bundleID)
	if errors.Is(err, store.ErrNoRows) || (err == nil && owner != partnerID) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.closeDesk(ctx, bundleID, StatusWithdrawn, "partner:"+partnerID, "", Issues{}, "")
}

// closeDesk ends a desk bundle without registering it.
func (s *Service) closeDesk(ctx context.Context, bundleID string, status Status, actor, decidedBy string, reasons Issues, note string) (*Decision, error) {
	var d *Decision
	err := s.inTx(ctx, nil, func(tx *ptx) (err error) {
		d, err = s.closeDeskIn(ctx, tx, bundleID, status, actor, decidedBy, reasons, note)
		return err
	})
	return d, err
}

func (s *Service) closeDeskIn(ctx context.Context, tx *ptx, bundleID string, status Status, actor, decidedBy string, reasons Issues, note string) (*Decision, error) {
	b, err := lockDeskBundle(ctx, tx, bundleID)
	if err != nil {
		return nil, err
	}
	now := s.Now().Truncate(time.Microsecond)
	reasonsJSON, _ := json.Marshal(reasons)
	if err := tx.CloseDeskBundle(ctx, b.ID, string(status), reasonsJSON, now, decidedBy, note); err != nil {
		return nil, fmt.Errorf("close desk bundle: %w", err)
	}
	if err := tx.Audit(ctx, db.AuditEntry{At: now, Actor: actor, Action: "desk." + string(status), Subject: b.ID,
		Detail: map[string]any{"reasons": codesOf(reasons)}}); err != nil {
		return nil, err
	}
	var app Application
	if err := json.Unmarshal(b.Application, &app); err != nil {
		return nil, err
	}
	d := &Decision{BundleID: b.ID, Reference: app.Reference, Type: app.Type, Status: status, Reasons: reasons, ReceivedAt: b.ReceivedAt, DecidedAt: now}
	if err := s.enqueue(ctx, tx, decisionEvents(Submitter{PartnerID: b.PartnerID}, d, nil, nil)...); err != nil {
		return nil, err
	}
	return d, nil
}

// Reassign gives a desk bundle to another reviewer (supervisors only).
func (s *Service) Reassign(ctx context.Context, bundleID, to string, by Officer) error {
	if by.Role != "supervisor" {
		return ErrForbidden
	}
	return s.inTx(ctx, nil, func(tx *ptx) error { return s.reassign(ctx, tx, bundleID, to, by) })
}

func (s *Service) reassign(ctx context.Context, tx *ptx, bundleID, to string, by Officer) error {
	if _, err := lockDeskBundle(ctx, tx, bundleID); err != nil {
		return err
	}
	assigned, err := tx.AssignDeskBundle(ctx, bundleID, to)
	if err != nil {
		return err
	}
	if !assigned {
		return fmt.Errorf("%w: no active reviewer %q", ErrInvalidInput, to)
	}
	return tx.Audit(ctx, db.AuditEntry{At: s.Now(), Actor: "staff:" + by.Username, Action: "desk.reassigned", Subject: bundleID,
		Detail: map[string]any{"to": to}})
}

// SupplyMaterial adds a promised document to a bundle at the desk and marks
// the promise kept. A document nobody promised is refused.
func (s *Service) SupplyMaterial(ctx context.Context, partnerID, bundleID string, m Material) (*Decision, error) {
	sum := sha256.Sum256(m.Content)
	var is Issues
	switch {
	case len(m.Content) == 0:
		is.Add("content", CodeMaterialEmpty, "材料内容为空")
	case len(m.Content) > MaxMaterialBytes:
		is.Add("content", CodeMaterialTooLarge, "单份材料不能超过 %d MB", MaxMaterialBytes>>20)
	case !strings.EqualFold(hex.EncodeToString(sum[:]), m.SHA256):
		is.Add("sha256", CodeMaterialHash, "材料内容的 SHA-256 与声明值不一致")
	case !MaterialMediaTypes[m.MediaType]:
		is.Add("mediaType", CodeMaterialMedia, "材料格式“%s”不受理，可用 PDF、OFD、JPEG、PNG", Clip(m.MediaType))
	case !magicMatches(m.MediaType, m.Content):
		is.Add("content", CodeMaterialContent, "材料内容不是声明的 %s 格式", m.MediaType)
	}
	text(&is, "fileName", m.FileName, true, 200)
	is = append(is, materialText(m)...)
	if len(is) > 0 {
		return nil, &ValidationError{Issues: is}
	}
	if err := s.inTx(ctx, nil, func(tx *ptx) error { return s.supplyMaterial(ctx, tx, partnerID, bundleID, m) }); err != nil {
		return nil, err
	}
	return s.Bundle(ctx, partnerID, bundleID)
}

func (s *Service) supplyMaterial(ctx context.Context, tx *ptx, partnerID, bundleID string, m Material) error {
	b, err := lockDeskBundle(ctx, tx, bundleID)
	if errors.Is(err, ErrNotFound) || (err == nil && b.PartnerID != partnerID) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	now := s.Now().Truncate(time.Microsecond)
	supplied := store.Material{Kind: m.Kind, FileName: m.FileName, MediaType: m.MediaType, SHA256: strings.ToLower(m.SHA256), Content: m.Content}
	kept, err := tx.SupplyMaterial(ctx, b.ID, supplied, now)
	if err != nil {
		return fmt.Errorf("store material: %w", err)
	}
	if !kept {
		return &ValidationError{Issues: Issues{{Field: "kind", Code: CodeNotAllowed, Message: "该业务件没有待补交的" + materialLabel(m.Kind)}}}
	}
	return tx.Audit(ctx, db.AuditEntry{At: now, Actor: "partner:" + partnerID, Action: "desk.material_supplied", Subject: b.ID,
		Detail: map[string]any{"kind": m.Kind}})
}
