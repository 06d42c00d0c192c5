// Package sync will carry everything outbound: the transactional outbox,
// per-partner push schedules, signed delivery with retries and dead letters,
// and coordination between nodes through PostgreSQL. The name shadows the
// standard library's sync, so importers alias it (msync).
package sync
