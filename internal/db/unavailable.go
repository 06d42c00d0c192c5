package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"time"

	"github.com/lib/pq"
)

// IsUnavailable reports whether err means the database cannot be reached
// or will not serve us now (down, restarting, out of connections), as
// opposed to a fault in the query or the data. Callers answer an outage
// with 503 and Retry-After, and back off, instead of treating it as a bug.
//
// This is the one place that knows how lib/pq and database/sql show an
// outage: a failed dial, a connection that died mid-query, and the
// server's own refusals by SQLSTATE. A bare io.EOF is not one: lib/pq
// turns its own into driver.ErrBadConn, and a truncated request body
// must stay a 400.
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
	// A failed dial or a connection that broke under a query: lib/pq
	// reports these as *net.OpError, or as driver.ErrBadConn (which it
	// also makes of EOF) once database/sql has given up retrying. A
	// timeout is not counted: the pool sets no deadlines, so one comes from
	// somewhere else (a client's slow body, say).
	var opErr *net.OpError
	var ce *connectError
	if errors.As(err, &opErr) && !opErr.Timeout() || errors.As(err, &ce) {
		return true
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)
}

// connectError is a failure to open a connection below PostgreSQL's own
// answers: a refused dial, or an EOF in the startup handshake when the
// server dies as we connect (lib/pq returns that one bare).
type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// connector marks the pool's connection failures as connectErrors.
type connector struct{ driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	var pqErr *pq.Error
	if err != nil && ctx.Err() == nil && !errors.As(err, &pqErr) {
		err = &connectError{err}
	}
	return conn, err
}

// RetryAfter is how long a client is told to wait during an outage (HTTP
// Retry-After): about what a restart of the embedded cluster takes.
const RetryAfter = 5 * time.Second
