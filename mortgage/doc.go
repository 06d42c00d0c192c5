// Package mortgage is the domain of mortgage registration: the canonical
// application every partner format decodes into, the validation rules, the
// checks against the register (登记簿), and registration itself — mortgage
// right and rank, certificate number, the signed electronic certificate
// (不动产登记证明, certificate.go), fee, audit record and the partner's events
// — in one PostgreSQL transaction.
//
// It keeps the flow and the rules; every statement it runs is a method of
// mortgage/store, which does not import it (TestNoSQL keeps it so). It
// imports none of the adapters (server, partners, sync); they depend on it.
package mortgage
