package centrejson

import (
	"encoding/base64"
	"encoding/json"

	"mortgaged/mortgage"
)

// EncodeApplication writes an application as a JSON v1 request body, as a
// bank's core system would send it. The demo, the load benchmark and tests
// use it so that every sample goes through the real decoder.
func EncodeApplication(a *mortgage.Application) ([]byte, error) {
	w := application{
		Reference: a.Reference, Type: string(a.Type), Mortgagee: party(a.Mortgagee),
		FeeExemption: a.FeeExemption, Remarks: a.Remarks,
	}
	for _, u := range a.Units {
		w.Units = append(w.Units, unit(u))
	}
	for _, p := range a.Mortgagors {
		w.Mortgagors = append(w.Mortgagors, party(p))
	}
	for _, p := range a.Debtors {
		w.Debtors = append(w.Debtors, party(p))
	}
	if a.Agent != nil {
		p := party(*a.Agent)
		w.Agent = &p
	}
	if t := a.Mortgage; t != nil {
		w.Mortgage = &terms{
			CollateralKind: t.CollateralKind, Scope: t.Scope, TransferRestricted: t.TransferRestricted,
			DebtStart: dateString(t.DebtStart), DebtEnd: dateString(t.DebtEnd),
		}
		if t.PrincipalFen != 0 {
			w.Mortgage.PrincipalAmount, _ = json.Marshal(mortgage.FormatYuan(t.PrincipalFen))
		}
		if t.MaximumFen != 0 {
			w.Mortgage.MaximumAmount, _ = json.Marshal(mortgage.FormatYuan(t.MaximumFen))
		}
	}
	if c := a.Cancellation; c != nil {
		w.Cancellation = &cancellation{CertificateNumber: c.CertificateNumber, Reason: c.Reason}
	}
	for _, p := range a.Promises {
		w.Promises = append(w.Promises, promise{Kind: p.Kind, DueOn: dateString(p.DueOn)})
	}
	w.ReviewRequest = a.ReviewRequest
	for _, m := range a.Materials {
		w.Materials = append(w.Materials, material{Kind: m.Kind, FileName: m.FileName, MediaType: m.MediaType,
			SHA256: m.SHA256, Content: base64.StdEncoding.EncodeToString(m.Content)})
	}
	return json.MarshalIndent(w, "", "  ")
}

func dateString(d mortgage.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
