// Package mortgage is the domain of mortgage registration: the canonical
// application every partner format decodes into, the validation rules, the
// checks against the register (登记簿), and registration itself — mortgage
// right and rank, certificate number, fee and audit record — in one
// PostgreSQL transaction.
//
// It imports none of the adapters (server, partners, sync); they depend on it.
package mortgage
