package store

import (
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
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
	sqldb := sql.OpenDB(newPGConnector(dsn))
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(min(n, IdleConns))
	return sqldb, nil
}

// pgConnector makes pgConns.
type pgConnector struct{ inner *pgdriver.Connector }

// newPGConnector is pgdriver's connector for dsn, with the socket wrapped
// in a replyConn. The replyConn must see the protocol's bytes, so when the
// DSN asks for TLS the connector's dialer negotiates it (as pgdriver would)
// and the wrapper goes over the TLS connection.
func newPGConnector(dsn string) *pgConnector {
	inner := pgdriver.NewConnector(pgdriver.WithDSN(dsn))
	conf := inner.Config()
	dial, tlsConf := conf.Dialer, conf.TLSConfig
	conf.TLSConfig = nil
	conf.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tlsConf != nil {
			tc, err := startTLS(ctx, nc, tlsConf, conf.ReadTimeout)
			if err != nil {
				_ = nc.Close()
				return nil, err
			}
			nc = tc
		}
		return &replyConn{Conn: nc}, nil
	}
	return &pgConnector{inner: inner}
}

// startTLS asks the server for TLS on nc (the SSLRequest message) and
// makes the handshake, as pgdriver does when it dials itself.
func startTLS(ctx context.Context, nc net.Conn, conf *tls.Config, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && (timeout == 0 || d.Before(deadline)) {
		deadline = d
	} else if timeout == 0 {
		deadline = time.Time{}
	}
	_ = nc.SetDeadline(deadline)
	defer nc.SetDeadline(time.Time{})
	// SSLRequest: length 8, then the code 1234 5679.
	if _, err := nc.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		return nil, err
	}
	var answer [1]byte
	if _, err := io.ReadFull(nc, answer[:]); err != nil {
		return nil, err
	}
	if answer[0] != 'S' {
		return nil, errors.New("pgdriver: SSL is not enabled on the server")
	}
	tc := tls.Client(nc, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("pgdriver: TLS handshake failed: %w", err)
	}
	return tc, nil
}

// replyConn is a connection to PostgreSQL that counts the bytes read
// since the last mark and keeps the first five: the type and length of
// the first message of a reply. From them pgConn learns whether a failed
// statement got any answer before its error (see pgConn.retryable).
type replyConn struct {
	net.Conn
	read int64   // bytes read since mark
	head [5]byte // the first of them
}

// Read implements net.Conn.
func (c *replyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.read < int64(len(c.head)) {
		copy(c.head[c.read:], p[:n])
	}
	c.read += int64(n)
	return n, err
}

// mark starts counting afresh: a statement is about to be sent.
func (c *replyConn) mark() { c.read = 0 }

// onlyMessage reports whether what was read since the mark is one whole
// message of type typ and nothing else.
func (c *replyConn) onlyMessage(typ byte) bool {
	return c.read >= int64(len(c.head)) && c.head[0] == typ &&
		c.read == 1+int64(binary.BigEndian.Uint32(c.head[1:]))
}

// NetConn returns the socket, for connAlive.
func (c *replyConn) NetConn() net.Conn {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c.Conn
}

// clientCheckInterval is PostgreSQL's client_connection_check_interval on
// every connection: how often a backend running a query checks that its
// client is still there, and ends the query when it is not. A call
// abandoned by its caller closes its connection (see pgConn.watch); with
// this setting the query ends within the interval instead of running to
// its end, holding locks and a processor.
const clientCheckInterval = "1000" // milliseconds

// Connect implements driver.Connector.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	pc, rc, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: pc, reply: rc, connector: c}, nil
}

// open opens a pgdriver connection with the settings of every connection.
func (c *pgConnector) open(ctx context.Context) (*pgdriver.Conn, *replyConn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	pc := cn.(*pgdriver.Conn)
	rc, _ := pc.Conn().(*replyConn)
	if _, err := pc.ExecContext(ctx, "SET client_connection_check_interval = "+clientCheckInterval, nil); err != nil {
		var pgErr pgdriver.Error
		if !errors.As(err, &pgErr) || pgErr.Field('C') != "42704" { // undefined_object: a server before PostgreSQL 14
			_ = pc.Close()
			return nil, nil, err
		}
	}
	// Plans of the foreign key checks (and other statements PostgreSQL
	// prepares itself) are made for the sizes of the tables at the time:
	// after five checks a backend keeps a generic plan, and one made while
	// customers was tiny read the whole table for every later check until
	// an ANALYZE or VACUUM invalidated it (creates fell to 17/s at 6,000
	// customers with autovacuum off). Planning each check anew always sees
	// the table's current size. The store's write transactions keep
	// generic plans all the same, made so that they cannot scan a table
	// (keyedWriteSettings); everything else plans anew. The store
	// prepares no statements of its own (bun inlines arguments); River's,
	// which come with arguments, are kept prepared (pgstmts.go).
	if _, err := pc.ExecContext(ctx, "SET plan_cache_mode = force_custom_plan", nil); err != nil {
		_ = pc.Close()
		return nil, nil, err
	}
	return pc, rc, nil
}

// Driver implements driver.Connector.
func (c *pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is a pgdriver connection with three additions:
//
//   - Before database/sql hands out a pooled connection again
//     (ResetSession), it checks, without blocking, that the server has not
//     closed it: an idle PostgreSQL connection receives nothing, so a
//     connection with something to read (the FATAL message of
//     pg_terminate_backend or of a server shutdown) or at its end is dead.
//     It then opens a new connection in its place (reconnect): nothing was
//     sent on the dead one, so nothing can have been applied twice. Without
//     the check, pgdriver notices the death only when the next statement's
//     answer is the FATAL error: one failed call per pooled connection.
//   - The check cannot see a termination that arrives after it, while the
//     first statement is on its way (under load most of them did). When
//     the failure proves that the statement changed nothing (see
//     retryable), it is sent once more on a new connection in the dead
//     one's place, and if that fails too, it fails with driver.ErrBadConn,
//     which database/sql answers by running the call again on another
//     connection.
//   - A call whose context ends while it waits for the server returns at
//     once (pgdriver only watches deadlines, not cancellation): the
//     socket's deadline is moved to now, which fails the read, and the
//     connection is discarded. The server notices the closed connection
//     within clientCheckInterval and ends the query.
//
// Replacing a dead connection in place, rather than answering
// driver.ErrBadConn at once, matters when the server ended many at once:
// database/sql gives a call three connections (two from the pool, then a
// new one), and every dead pooled connection it tries uses one of them up.
type pgConn struct {
	*pgdriver.Conn
	reply     *replyConn // the socket, counting each statement's reply
	connector *pgConnector
	broken    bool // a call was cut short: the protocol state is unknown
	inTx      bool // between BeginTx and the end of its transaction
	// begun: the transaction's BEGIN has reached the server. Until then
	// nothing of the transaction can have been applied.
	begun bool
	// held are the statements of the transaction not sent yet (see
	// pipelining below): its BEGIN until the first statement, and the
	// deferred writes since the last statement sent, each ending in ";\n".
	held []byte
	// beginLen is the length of the BEGIN at the start of held while it
	// is not sent: held holds nothing else when it is that long.
	beginLen int
	// stmts are the statements with arguments kept prepared on this
	// connection (pgstmts.go); a new connection in its place starts empty.
	stmts pgStmts
}

// IsValid implements driver.Validator.
func (cn *pgConn) IsValid() bool { return !cn.broken && cn.Conn.IsValid() }

// ResetSession implements driver.SessionResetter.
func (cn *pgConn) ResetSession(ctx context.Context) error {
	cn.inTx, cn.begun, cn.held = false, false, cn.held[:0]
	if cn.broken || !connAlive(cn.Conn.Conn()) {
		if err := cn.reconnect(ctx); err != nil {
			return driver.ErrBadConn
		}
	}
	return cn.Conn.ResetSession(ctx)
}

// reconnect closes the connection to the server and opens a new one in
// its place. Only for a connection that is dead or whose state is
// unknown, outside a transaction: the new one carries no session of the
// old.
func (cn *pgConn) reconnect(ctx context.Context) error {
	_ = cn.Conn.Close()
	if cn.inTx && cn.begun {
		return driver.ErrBadConn
	}
	pc, rc, err := cn.connector.open(ctx)
	if err != nil {
		return err
	}
	cn.Conn, cn.reply, cn.broken, cn.stmts = pc, rc, false, nil
	return nil
}

// watch arranges for the call that follows to end when ctx ends; done
// turns its error into one that says so.
func (cn *pgConn) watch(ctx context.Context) (done func(error) error) {
	if ctx.Done() == nil {
		return func(err error) error { return err }
	}
	cut := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = cn.Conn.Conn().SetDeadline(time.Now())
		close(cut)
	})
	return func(err error) error {
		if !stop() {
			// The deadline is set, or about to be: wait for it, and have
			// the connection discarded even when the call got its answer
			// first. Kept, it would fail a later call, perhaps of another
			// caller, when the belated deadline lands on that call's read.
			<-cut
			cn.broken = true
		}
		if err == nil {
			return nil
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

// Pipelining: on PostgreSQL every statement costs a round trip to the
// server (0.2 to 0.3 ms on one machine, more between machines), and a
// write of a customer ran a dozen. Two kinds of statement need no answer
// before the next one goes, so the connection holds them back and sends
// them in front of the transaction's next statement, in one simple-query
// message (PostgreSQL runs its statements in order and stops at the first
// failure):
//
//   - The transaction's BEGIN: BeginTx sends nothing; the first statement
//     carries it. A transaction that sends nothing costs nothing.
//   - Deferred writes: a statement that starts with deferredMarker (bun's
//     Comment(deferredComment)), run with ExecContext inside a
//     transaction, without arguments. The store marks only writes whose
//     result no caller reads and that cannot fail but for the transaction
//     as a whole (history events, field origins, interactions, a
//     customer's e-mail, phone and search rows after its UPDATE, and a
//     match's advisory locks, CALL match_lock): their failure, if it
//     comes, is the failure of the statement they travel with, or of the
//     COMMIT, and fails the transaction all the same. A held statement
//     must answer with no rows (no SELECT, no RETURNING): pgdriver reads
//     a query's rows from the first row description of the message. (In
//     a group-commit batch that would fail the whole batch rather than
//     one call; none of these writes runs in a batch, whose creates hold
//     their history rows themselves, groupbatch.go.)
//
// What runs is what ran before, in the same order: a statement after a
// held write sees it. Statements with arguments (River's) are sent after
// the held ones, in a round trip of their own, as prepared statements
// (pgstmts.go). A ROLLBACK TO SAVEPOINT drops the held writes (they were all
// made after the savepoint, which was sent), a Rollback drops everything,
// and a Commit sends what is held with the COMMIT.

// deferredComment marks a write whose sending may wait for the next
// statement of its transaction (see pipelining above). On SQLite it is
// only a comment.
const deferredComment = "deferred"

// deferredMarker is how a deferred statement starts (bun's comment).
const deferredMarker = "/* " + deferredComment + " */ "

// deferredResult is the result of a held write: nothing is known of it
// yet, and no caller of a deferred write asks.
type deferredResult struct{}

// LastInsertId implements driver.Result.
func (deferredResult) LastInsertId() (int64, error) {
	return 0, errors.New("store: a deferred write has no result")
}

// RowsAffected implements driver.Result.
func (deferredResult) RowsAffected() (int64, error) {
	return 0, errors.New("store: a deferred write has no result")
}

// withHeld returns query with the held statements in front of it, and
// whether they include the transaction's BEGIN. A statement with
// arguments is formatted by pgdriver, which must see it alone: the held
// statements are then sent first, on their own.
func (cn *pgConn) withHeld(ctx context.Context, query string, args []driver.NamedValue) (string, bool, error) {
	if len(cn.held) == 0 {
		return query, false, nil
	}
	if len(args) > 0 {
		if _, err := cn.ExecContext(ctx, "", nil); err != nil {
			return "", false, err
		}
		return query, false, nil
	}
	return string(cn.held) + query, !cn.begun, nil
}

// sent notes the outcome of a statement that carried the held ones: on
// success, or on a failure the server answered, they ran (up to the one
// that failed, which aborts the transaction); on a lost connection the
// transaction is gone with it.
func (cn *pgConn) sent(err error) {
	if err != nil && errors.Is(err, driver.ErrBadConn) {
		return
	}
	cn.held = cn.held[:0]
	if cn.inTx {
		cn.begun = true
	}
}

// withArgs is the statement to send for query with args: a marked one
// with its values taken out as arguments (pgMarkedArgs), and one with
// arguments without line comments, which pgdriver's formatting would
// otherwise read as text.
func withArgs(query string, args []driver.NamedValue) (string, []driver.NamedValue) {
	if len(args) == 0 {
		if q, a, ok := pgMarkedArgs(query); ok {
			query, args = q, a
		}
	}
	if len(args) > 0 {
		query = stripLineComments(query)
	}
	return query, args
}

// ExecContext implements driver.ExecerContext.
func (cn *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	query, args = withArgs(query, args)
	if cn.inTx && len(args) == 0 {
		switch {
		case strings.HasPrefix(query, deferredMarker):
			cn.held = append(append(cn.held, query...), ";\n"...)
			return deferredResult{}, nil
		case strings.HasPrefix(query, "ROLLBACK TO SAVEPOINT ") && cn.begun:
			cn.held = cn.held[:0]
		}
	}
	q, begin, err := cn.withHeld(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if q == "" {
		return driver.RowsAffected(0), nil
	}
	res, err := again(cn, ctx, func() (driver.Result, error) {
		cn.mark()
		done := cn.watch(ctx)
		res, err := cn.execArgs(ctx, q, args)
		return res, cn.retryable(ctx, done(err), begin)
	})
	cn.sent(err)
	return res, err
}

// QueryContext implements driver.QueryerContext.
func (cn *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	query, args = withArgs(query, args)
	q, begin, err := cn.withHeld(ctx, query, args)
	if err != nil {
		return nil, err
	}
	rows, err := again(cn, ctx, func() (driver.Rows, error) {
		cn.mark()
		done := cn.watch(ctx)
		rows, err := cn.queryArgs(ctx, q, args)
		return rows, cn.retryable(ctx, done(err), begin)
	})
	cn.sent(err)
	return rows, err
}

// PrepareContext implements driver.ConnPrepareContext: the held
// statements go first.
func (cn *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if len(cn.held) > 0 {
		if _, err := cn.ExecContext(ctx, "", nil); err != nil {
			return nil, err
		}
	}
	return cn.Conn.PrepareContext(ctx, query)
}

// Prepare implements driver.Conn.
func (cn *pgConn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

// BeginTx implements driver.ConnBeginTx: the BEGIN is held until the
// transaction's first statement (see pipelining above).
func (cn *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if cn.broken || !cn.Conn.IsValid() {
		return nil, driver.ErrBadConn
	}
	command := "BEGIN"
	switch level := sql.IsolationLevel(opts.Isolation); level {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead, sql.LevelSerializable:
		command += " ISOLATION LEVEL " + level.String()
	default:
		return nil, fmt.Errorf("store: unsupported transaction isolation: %s", level)
	}
	if opts.ReadOnly {
		command += " READ ONLY"
	} else if ctx.Value(storeWritesKey{}) != nil {
		command += ";\n" + keyedWriteSettings
	}
	cn.inTx, cn.begun = true, false
	cn.held = append(cn.held[:0], command+";\n"...)
	cn.beginLen = len(cn.held)
	return &pgTx{cn: cn}, nil
}

// storeWritesKey marks the context of a write transaction the store
// opened for its own statements (runWriteTx).
type storeWritesKey struct{}

// keyedWriteSettings travel with the BEGIN of the store's write
// transactions. Their foreign key checks (a lookup by a key, one per row
// written) then use the backend's generic plan instead of planning each
// lookup anew: an imported customer writes about six checked rows, and
// planning a check cost four to six times the lookup (a 30,000-row import
// ran a third faster with generic plans, creates over HTTP as much;
// docs/performance.md). A generic plan is made once and kept until an
// ANALYZE of its table, and one made while the table was tiny would scan
// the whole table ever after (see open). With sequential scans off while the plans are made, each is
// a lookup in the referenced key's index whatever the table's size, so it
// stays right as the table grows (TestForeignKeyChecksStayLookups).
// Sequential scans are only discouraged, not forbidden: a statement of the
// transaction that no index serves still scans.
const keyedWriteSettings = "SET LOCAL plan_cache_mode = auto;\nSET LOCAL enable_seqscan = off"

// again runs call, and when it failed in a way that proves it changed
// nothing (retryable's errRetry), runs it once more on a new connection
// in the dead one's place. A second such failure goes to database/sql as
// driver.ErrBadConn.
func again[T any](cn *pgConn, ctx context.Context, call func() (T, error)) (T, error) {
	v, err := call()
	var retry *errRetry
	if errors.As(err, &retry) && cn.reconnect(ctx) == nil {
		v, err = call()
	}
	return v, err
}

// pgTx ends its connection's transaction: what the connection holds goes
// with the COMMIT, or is dropped by the rollback.
type pgTx struct {
	cn *pgConn
}

// Commit implements driver.Tx.
func (tx *pgTx) Commit() error {
	cn := tx.cn
	defer func() { cn.inTx, cn.begun, cn.held = false, false, cn.held[:0] }()
	if !cn.begun && len(cn.held) == cn.beginLen {
		return nil // only the BEGIN: nothing ran
	}
	if cn.broken {
		return driver.ErrBadConn
	}
	cn.mark()
	_, err := cn.Conn.ExecContext(context.Background(), string(cn.held)+"COMMIT", nil)
	if err != nil && cn.Conn.IsValid() {
		// A held write failed: PostgreSQL skipped the COMMIT after it, and
		// the transaction is open, aborted, until it is rolled back.
		_, _ = cn.Conn.ExecContext(context.Background(), "ROLLBACK", nil)
	}
	return err
}

// Rollback implements driver.Tx.
func (tx *pgTx) Rollback() error {
	cn := tx.cn
	begun := cn.begun
	cn.inTx, cn.begun, cn.held = false, false, cn.held[:0]
	if !begun {
		return nil // nothing was sent
	}
	if cn.broken {
		return driver.ErrBadConn
	}
	_, err := cn.Conn.ExecContext(context.Background(), "ROLLBACK", nil)
	return err
}

// mark starts counting the reply of the statement about to be sent.
func (cn *pgConn) mark() {
	if cn.reply != nil {
		cn.reply.mark()
	}
}

// errRetry is what a statement that provably changed nothing fails with
// when its connection died: it matches driver.ErrBadConn, so database/sql
// runs the call again on another connection (twice from the pool, then on
// a new one), and still carries the server's reason.
type errRetry struct{ cause error }

// Error implements error.
func (e *errRetry) Error() string {
	return "connection lost before the statement ran: " + e.cause.Error()
}

// Is makes errRetry match driver.ErrBadConn.
func (e *errRetry) Is(target error) bool { return target == driver.ErrBadConn }

// Unwrap returns the driver's error.
func (e *errRetry) Unwrap() error { return e.cause }

// retryable turns err, the failure of a statement (begin: one sent with
// its transaction's BEGIN), into driver.ErrBadConn when the connection
// died and the failure proves that nothing was applied; otherwise it
// returns err unchanged. Inside a transaction whose BEGIN was sent before
// it never does (database/sql cannot repeat a transaction's statements,
// and a COMMIT that got no answer may have committed), nor
// when the caller's context ended (the caller gave up), nor for a time-out
// (the server may still be working on it).
//
// The argument, for each case:
//
//   - BEGIN and the statements sent with it commit nothing, whatever
//     their outcome: no COMMIT goes with them. If their connection is dead
//     (pgdriver closed it: a FATAL error, the end of the stream, a reset),
//     the transaction died with it and can start again on another one.
//   - A statement outside a transaction runs in a transaction of its own,
//     which PostgreSQL commits before it queues the statement's
//     CommandComplete and before it looks at interrupts again. The FATAL
//     error of pg_terminate_backend, of a fast shutdown (57P01
//     admin_shutdown) or of an idle-session time-out (57P05) is raised
//     only where a backend looks at its interrupts, and queued after
//     whatever the backend had queued before. So when that error is the
//     one and only message of the reply, the statement either never
//     reached the backend (the usual case: the backend was idle and gone
//     before the statement arrived) or was stopped before its commit,
//     whose work was rolled back.
//   - A FATAL error that pgdriver had read (into its buffer) before the
//     statement was sent, while it read the reply before: nothing was read
//     from the socket since the statement was sent. The backend sent it
//     before it could have received the statement, and a backend sends
//     nothing after a FATAL error: it ends.
//   - Not retried: a statement whose connection ended without any reply.
//     A backend killed or crashed right after its commit (SIGKILL, the
//     out-of-memory killer, a crash of another backend, which makes the
//     server stop every backend at once: 57P02, sent as a warning, at any
//     moment) ends the stream the same way, with the statement applied.
//     Nor a reply in which anything came before the error.
func (cn *pgConn) retryable(ctx context.Context, err error, begin bool) error {
	if err == nil || (cn.inTx && cn.begun) || cn.broken || contextEnded(ctx) != nil || errors.Is(err, driver.ErrBadConn) {
		return err
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return err
	}
	if begin {
		if !cn.Conn.IsValid() { // pgdriver closed it: the connection is dead
			return &errRetry{cause: err}
		}
		return err
	}
	var pgErr pgdriver.Error
	if cn.reply == nil || !errors.As(err, &pgErr) || pgErr.Field('V') != "FATAL" {
		return err
	}
	switch {
	case cn.reply.read == 0: // the error was read before the statement was sent
		return &errRetry{cause: err}
	case cn.reply.onlyMessage('E'):
		switch pgErr.Field('C') {
		case "57P01", "57P05": // admin_shutdown, idle_session_timeout
			return &errRetry{cause: err}
		}
	}
	return err
}

// Ping implements driver.Pinger.
func (cn *pgConn) Ping(ctx context.Context) error {
	_, err := cn.ExecContext(ctx, "SELECT 1", nil)
	return err
}
