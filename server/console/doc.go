// Package console is the staff console (审核台) under /console: server-
// rendered Chinese HTML where centre staff sign in, work the desk queue,
// decide bundles, load holiday notices, edit routing rules and redeliver
// dead letters (docs/console.md).
//
// It holds no SQL and no registration rule: every page reads a model and
// every action calls a method through the interfaces in backend.go (the
// registration service, staff accounts and sessions, the outbox's dead
// letters), so what the console shows and does is what the domain says.
// What it owns is the web: sessions' cookies, CSRF protection, role checks,
// the sign-in throttle, templates and forms.
package console
