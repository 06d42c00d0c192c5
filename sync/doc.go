// Package sync is the outbound side of the server, in subpackages named so
// that none shadows the standard library's sync:
//
//   - sync/outbox: the events the registration writes in its own transaction
//     (mortgage/outbox.go): claims by status with FOR UPDATE SKIP LOCKED
//     under a lease, attempt results, the partners' pull and acknowledgement,
//     dead letters and their redelivery.
//   - sync/push: each partner's push on its gocron schedule, signed
//     deliveries, retries with backoff and jitter, 410/429/503 handling,
//     batch documents for the provident fund centre.
//   - sync/pglock: gocron's distributed locker on PostgreSQL advisory locks,
//     so several nodes run each partner's push one at a time.
//   - sync/pushsig: Standard Webhooks signatures and secrets.
//
// This package itself holds no code.
package sync
