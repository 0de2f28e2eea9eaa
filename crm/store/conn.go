package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// DefaultMaxConns is how many PostgreSQL connections a DB opens at most
// unless WithMaxConns says otherwise: four per processor the Go runtime
// uses, and at least 8. Calls beyond it wait for a connection to come
// free (until their context ends) instead of failing; without a bound the
// server's backends grew with the concurrency until PostgreSQL's
// max_connections refused new ones.
func DefaultMaxConns() int { return max(4*runtime.GOMAXPROCS(0), 8) }

// connOptions are the options of Open about connections.
type connOptions struct {
	maxConns int   // PostgreSQL pool bound; 0: DefaultMaxConns
	walLimit int64 // SQLite WAL size that triggers a restarting checkpoint; 0: DefaultWALLimit
}

// WithMaxConns bounds the PostgreSQL connections the DB opens at n (at
// least 2: migrations hold one connection for their lock while they run on
// another). 0 keeps DefaultMaxConns. SQLite ignores it.
func WithMaxConns(n int) Option { return func(o *options) { o.conn.maxConns = n } }

// openPostgres opens the pool of PostgreSQL connections: bounded, with
// connections that are checked before reuse and cancelled with their
// calls (see pgConn).
func openPostgres(dsn string, o connOptions) (*sql.DB, error) {
	n := o.maxConns
	switch {
	case n == 0:
		n = DefaultMaxConns()
	case n < 2:
		return nil, fmt.Errorf("at most %d database connections is too few: migrations need 2", n)
	}
	sqldb := sql.OpenDB(&pgConnector{inner: pgdriver.NewConnector(pgdriver.WithDSN(dsn))})
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(min(n, IdleConns))
	return sqldb, nil
}

// pgConnector makes pgConns.
type pgConnector struct{ inner *pgdriver.Connector }

// clientCheckInterval is PostgreSQL's client_connection_check_interval on
// every connection: how often a backend running a query checks that its
// client is still there, and ends the query when it is not. A call
// abandoned by its caller closes its connection (see pgConn.watch); with
// this setting the query ends within the interval instead of running to
// its end, holding locks and a processor.
const clientCheckInterval = "1000" // milliseconds

// Connect implements driver.Connector.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc := cn.(*pgdriver.Conn)
	if _, err := pc.ExecContext(ctx, "SET client_connection_check_interval = "+clientCheckInterval, nil); err != nil {
		var pgErr pgdriver.Error
		if !errors.As(err, &pgErr) || pgErr.Field('C') != "42704" { // undefined_object: a server before PostgreSQL 14
			_ = pc.Close()
			return nil, err
		}
	}
	// Plans of the foreign key checks (and other statements PostgreSQL
	// prepares itself) are made for the sizes of the tables at the time:
	// after five checks a backend keeps a generic plan, and one made while
	// customers was tiny read the whole table for every later check until
	// an ANALYZE or VACUUM invalidated it (creates fell to 17/s at 6,000
	// customers with autovacuum off). Planning each check anew costs tens
	// of microseconds and always sees the table's current size. The store
	// prepares no statements of its own (bun inlines arguments).
	if _, err := pc.ExecContext(ctx, "SET plan_cache_mode = force_custom_plan", nil); err != nil {
		_ = pc.Close()
		return nil, err
	}
	return &pgConn{Conn: pc}, nil
}

// Driver implements driver.Connector.
func (c *pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is a pgdriver connection with two additions:
//
//   - Before database/sql hands out a pooled connection again
//     (ResetSession), it checks, without blocking, that the server has not
//     closed it: an idle PostgreSQL connection receives nothing, so a
//     connection with something to read (the FATAL message of
//     pg_terminate_backend or of a server shutdown) or at its end is dead.
//     It then answers driver.ErrBadConn, and database/sql takes another
//     connection or opens a new one. Nothing was sent on the dead
//     connection, so nothing can have been applied twice. Without the
//     check, pgdriver notices the death only when the next statement's
//     answer is the FATAL error: one failed call per pooled connection.
//   - A call whose context ends while it waits for the server returns at
//     once (pgdriver only watches deadlines, not cancellation): the
//     socket's deadline is moved to now, which fails the read, and the
//     connection is discarded. The server notices the closed connection
//     within clientCheckInterval and ends the query.
type pgConn struct {
	*pgdriver.Conn
	broken bool // a call was cut short: the protocol state is unknown
}

// IsValid implements driver.Validator.
func (cn *pgConn) IsValid() bool { return !cn.broken && cn.Conn.IsValid() }

// ResetSession implements driver.SessionResetter.
func (cn *pgConn) ResetSession(ctx context.Context) error {
	if cn.broken || !connAlive(cn.Conn.Conn()) {
		_ = cn.Conn.Close()
		return driver.ErrBadConn
	}
	return cn.Conn.ResetSession(ctx)
}

// watch arranges for the call that follows to end when ctx ends; done
// turns its error into one that says so.
func (cn *pgConn) watch(ctx context.Context) (done func(error) error) {
	if ctx.Done() == nil {
		return func(err error) error { return err }
	}
	stop := context.AfterFunc(ctx, func() { _ = cn.Conn.Conn().SetDeadline(time.Now()) })
	return func(err error) error {
		fired := !stop()
		if err == nil {
			return nil
		}
		if fired {
			cn.broken = true
		}
		if cerr := contextEnded(ctx); cerr != nil {
			return fmt.Errorf("%w: %w", cerr, err)
		}
		return err
	}
}

// contextEnded is ctx.Err(), or context.DeadlineExceeded once the deadline
// has passed: pgdriver puts the deadline on the socket, whose read may
// fail a moment before the context's own timer ends it.
func contextEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// ExecContext implements driver.ExecerContext.
func (cn *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) > 0 {
		query = stripLineComments(query)
	}
	done := cn.watch(ctx)
	res, err := cn.Conn.ExecContext(ctx, query, args)
	return res, done(err)
}

// QueryContext implements driver.QueryerContext.
func (cn *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) > 0 {
		query = stripLineComments(query)
	}
	done := cn.watch(ctx)
	rows, err := cn.Conn.QueryContext(ctx, query, args)
	return rows, done(err)
}

// BeginTx implements driver.ConnBeginTx.
func (cn *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	done := cn.watch(ctx)
	tx, err := cn.Conn.BeginTx(ctx, opts)
	return tx, done(err)
}

// Ping implements driver.Pinger.
func (cn *pgConn) Ping(ctx context.Context) error {
	_, err := cn.ExecContext(ctx, "SELECT 1", nil)
	return err
}
