// Package store is the register's persistence: every SQL statement the
// mortgage domain runs, the registration transaction with its prepared
// statements, and the row types those statements read.
//
// It does not import mortgage. The domain (package mortgage) keeps the flow
// and the rules, calls one method here per statement, in its own order, and
// maps the rows to its types; so a method here is one round trip, and the
// registration transaction's round trips (docs/BENCHMARKS.md) are the
// domain's to count. The statements' text is mirrored by the load
// benchmark's pgbench floor (cmd/loadbench/pgbench.go): change both.
package store
