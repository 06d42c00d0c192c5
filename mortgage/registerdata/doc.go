// Package registerdata loads the register (登记簿) from JSON Lines files and
// makes demo data: a synthetic Qiqihar register and sample bundles that a
// demo bank would submit against it.
//
// The file format, one property unit per line, is documented in
// docs/register-import.md. Import checks every line before it writes
// anything, then loads the whole file in one transaction, so a register is
// either loaded completely or not at all. GenerateDemo writes a register in
// the same format with every hard case the registration rules know about
// (seizures, co-ownership, existing mortgages, objections, other parties'
// pre-registrations, property that cannot be mortgaged), and SampleBundles
// builds applications that exercise them.
//
// Everything the demo generates is synthetic: identity numbers and credit
// codes pass their check characters but belong to nobody, and the banks are
// made up.
package registerdata
