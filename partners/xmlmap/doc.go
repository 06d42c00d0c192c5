// Package xmlmap reads and writes a bank's own XML dialect by a mapping
// file (docs/formats/bank-dialects.md) instead of code: the file says which
// element path holds each canonical field, which code tables translate the
// bank's values, and how answers and events are written back. A Dialect's
// Decode turns a dialect document into the canonical mortgage.Application
// with the bank's own element paths in every fault; its Encode methods
// write answers, events and problems in the dialect. partners/dialects
// holds the shipped mapping files.
package xmlmap
