// Package push delivers partners' events to their callbacks: each partner on
// its own schedule (a bank every minute, the provident fund centre once a
// day as one document), signed in the Standard Webhooks style, retried with
// backoff and jitter, dead-lettered after the retry window, across any
// number of nodes sharing one database.
//
// The Scheduler runs one gocron job per partner whose push is on, and
// refreshes the list when partners change. gocron's distributed locker
// (sync/pglock) lets one node at a time run a partner's job. That lock is no
// fencing token, so the Deliverer stays correct without it: it claims events
// by status with FOR UPDATE SKIP LOCKED under a lease (sync/outbox), POSTs
// each once per claim, and records each attempt for the claim that made it.
// Delivery is at least once; partners deduplicate on webhook-id.
package push
