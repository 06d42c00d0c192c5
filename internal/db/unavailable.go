package db

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// IsUnavailable reports whether err means the database cannot be reached
// or will not serve us now (down, restarting, out of connections), as
// opposed to a fault in the query or the data. Callers answer an outage
// with 503 and Retry-After, and back off, instead of treating it as a bug.
//
// This is the one place that knows how lib/pq and database/sql show an
// outage: a failed dial, a connection that died mid-query (EOF, broken
// pipe, driver.ErrBadConn after database/sql's own retries), and the
// server's own refusals by SQLSTATE.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "57P01", // admin_shutdown: the server is stopping
			"57P02", // crash_shutdown: another backend crashed
			"57P03", // cannot_connect_now: starting up or in recovery
			"53300": // too_many_connections
			return true
		}
		return pqErr.Code.Class() == "08" // connection_exception
	}
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ENOENT): // a unix socket that is gone
		return true
	}
	return false
}

// RetryAfter is how long a client is told to wait during an outage (HTTP
// Retry-After): about what a restart of the embedded cluster takes.
const RetryAfter = 5 * time.Second
