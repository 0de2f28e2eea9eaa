package store

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/uptrace/bun/driver/pgdriver"
)

// Statements with arguments on PostgreSQL run as prepared statements, kept
// per connection.
//
// The statements that reach a connection with arguments are River's (bun
// writes every value into the text of its own): the job insert of a create,
// an interaction or a mailing, and the workers' fetches and completions,
// a fixed set of texts. pgdriver would write the arguments into the text
// and send it as a simple query, which the server parses and plans anew
// each time; for River's job insert (a CTE over unnest of a dozen arrays
// with an ON CONFLICT on its unique key) that was about 180 µs of planning
// and more of parsing for 160 µs of execution (pg_stat_statements). Kept
// prepared, a statement is parsed once per connection, and inside the
// store's write transactions (plan_cache_mode = auto, see
// keyedWriteSettings) planned once as well.
//
// A kept statement that the server no longer accepts (its tables were
// altered by a migration of another process: "cached plan must not change
// result type"; or it is gone) fails that call and is forgotten, so the
// next call prepares it again.

// pgStmtCacheSize bounds the statements kept per connection; a statement
// beyond it runs as before, unprepared.
const pgStmtCacheSize = 64

// pgStmts are a connection's kept statements by their text.
type pgStmts map[string]driver.Stmt

// stmtFor returns the connection's kept statement for query, preparing
// it when it is not kept yet; nil when the cache is full.
func (cn *pgConn) stmtFor(ctx context.Context, query string) (driver.Stmt, error) {
	if st, ok := cn.stmts[query]; ok {
		return st, nil
	}
	if len(cn.stmts) >= pgStmtCacheSize {
		return nil, nil
	}
	st, err := cn.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if cn.stmts == nil {
		cn.stmts = make(pgStmts)
	}
	cn.stmts[query] = st
	return st, nil
}

// forgetStmt drops the kept statement for query when err says the server
// no longer runs it as prepared.
func (cn *pgConn) forgetStmt(query string, err error) {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return
	}
	switch pgErr.Field('C') {
	case "0A000", "26000": // feature_not_supported (cached plan changed), invalid_sql_statement_name
		delete(cn.stmts, query)
	}
}

// execArgs runs query, with its arguments as a kept statement.
func (cn *pgConn) execArgs(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return withKept(cn, ctx, query, args, cn.Conn.ExecContext, func(st driver.Stmt) (driver.Result, error) {
		return st.(driver.StmtExecContext).ExecContext(ctx, args)
	})
}

// queryArgs runs query, with its arguments as a kept statement.
func (cn *pgConn) queryArgs(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return withKept(cn, ctx, query, args, cn.Conn.QueryContext, func(st driver.Stmt) (driver.Rows, error) {
		return st.(driver.StmtQueryContext).QueryContext(ctx, args)
	})
}

// withKept runs query through kept, its kept statement, when it has
// arguments and the cache has room for it; through plain otherwise.
func withKept[T any](cn *pgConn, ctx context.Context, query string, args []driver.NamedValue,
	plain func(context.Context, string, []driver.NamedValue) (T, error), kept func(driver.Stmt) (T, error)) (T, error) {
	var st driver.Stmt
	if len(args) > 0 {
		var err error
		if st, err = cn.stmtFor(ctx, query); err != nil {
			var zero T
			return zero, err
		}
	}
	if st == nil {
		return plain(ctx, query, args)
	}
	v, err := kept(st)
	if err != nil {
		cn.forgetStmt(query, err)
	}
	return v, err
}
