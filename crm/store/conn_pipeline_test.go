package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"slices"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"
)

// pinnedPGConn is one connection of a pool of the store's PostgreSQL
// connector, with a temporary table held(x int primary key) of its own.
func pinnedPGConn(t *testing.T) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	db := sql.OpenDB(newPGConnector(testPostgresDSN(t)))
	t.Cleanup(func() { _ = db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.ExecContext(ctx, "CREATE TEMPORARY TABLE held (x int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return conn
}

// heldRows returns the rows of the table held, in order.
func heldRows(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) []int {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), "SELECT x FROM held ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var xs []int
	for rows.Next() {
		var x int
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		xs = append(xs, x)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return xs
}

// TestPipelinedTransaction: a transaction's BEGIN and its deferred writes
// go with its next statement, and what runs is what would have run had
// each been sent at once: later statements see the writes, a commit
// stores them, a rollback (to a savepoint) drops them, and a write that
// fails fails the transaction and leaves the connection usable.
func TestPipelinedTransaction(t *testing.T) {
	ctx := context.Background()
	conn := pinnedPGConn(t)
	deferred := func(x string) string { return deferredMarker + "INSERT INTO held VALUES (" + x + ")" }
	want := func(step string, xs ...int) {
		t.Helper()
		if got := heldRows(t, conn); !slices.Equal(got, xs) {
			t.Fatalf("%s: held holds %v, want %v", step, got, xs)
		}
	}

	// Seen by the next statement, with or without arguments; stored by the
	// commit.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, deferred("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.RowsAffected(); err == nil {
		t.Error("a held write reported rows affected: nothing is known of it yet")
	}
	if got := heldRows(t, tx); !slices.Equal(got, []int{1}) {
		t.Errorf("the statement after a held write saw %v, want [1]", got)
	}
	if _, err := tx.ExecContext(ctx, deferred("2")); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM held WHERE x = $1", 2).Scan(&n); err != nil || n != 1 {
		t.Errorf("a statement with arguments after a held write: count %d, %v; want 1", n, err)
	}
	if _, err := tx.ExecContext(ctx, deferred("3")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	want("after the commit", 1, 2, 3)

	// A rollback drops what is held, sent or not.
	tx, _ = conn.BeginTx(ctx, nil)
	_, _ = tx.ExecContext(ctx, deferred("4"))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx, _ = conn.BeginTx(ctx, nil)
	_, _ = tx.ExecContext(ctx, deferred("5"))
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	_, _ = tx.ExecContext(ctx, deferred("6"))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	want("after two rollbacks", 1, 2, 3)

	// A rollback to a savepoint drops the writes made after it.
	tx, _ = conn.BeginTx(ctx, nil)
	_, _ = tx.ExecContext(ctx, deferred("7"))
	if _, err := tx.ExecContext(ctx, "SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	_, _ = tx.ExecContext(ctx, deferred("8"))
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	_, _ = tx.ExecContext(ctx, deferred("9"))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	want("after a rollback to a savepoint", 1, 2, 3, 7, 9)

	// A held write that fails fails the statement it goes with, or the
	// commit; nothing of the transaction is stored, and the connection
	// holds no aborted transaction afterwards.
	tx, _ = conn.BeginTx(ctx, nil)
	_, _ = tx.ExecContext(ctx, deferred("10"))
	_, _ = tx.ExecContext(ctx, deferred("1"))
	var pgErr pgdriver.Error
	if err := tx.Commit(); !errors.As(err, &pgErr) || pgErr.Field('C') != "23505" {
		t.Errorf("commit after a failing held write: %v, want the unique violation", err)
	}
	want("after a failed commit", 1, 2, 3, 7, 9)
	tx, _ = conn.BeginTx(ctx, nil)
	_, _ = tx.ExecContext(ctx, "SELECT 1")
	_, _ = tx.ExecContext(ctx, deferred("2"))
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Error("the statement after a failing held write succeeded")
	}
	_ = tx.Rollback()
	want("after a failed statement", 1, 2, 3, 7, 9)

	// Outside a transaction a deferred statement runs at once.
	res, err = conn.ExecContext(ctx, deferred("11"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Errorf("a deferred statement outside a transaction: %d rows, %v; want it run", n, err)
	}
	want("outside a transaction", 1, 2, 3, 7, 9, 11)

	// The transaction's options go with its BEGIN.
	tx, err = conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var level, readOnly string
	if err := tx.QueryRowContext(ctx, "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')").Scan(&level, &readOnly); err != nil {
		t.Fatal(err)
	}
	if level != "repeatable read" || readOnly != "on" {
		t.Errorf("transaction_isolation %q, transaction_read_only %q; want repeatable read, on", level, readOnly)
	}
	_ = tx.Rollback()
}

// TestTerminatedBeforeFirstStatement: the first statement of a
// transaction carries its BEGIN; when it finds its connection terminated,
// nothing of the transaction can have run, and the two are sent again on
// a new connection.
func TestTerminatedBeforeFirstStatement(t *testing.T) {
	ctx := context.Background()
	cn := terminatedConn(t, false)
	dead := cn.Conn
	tx, err := cn.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cn.ExecContext(ctx, "CREATE TEMPORARY TABLE t (x int)", nil); err != nil {
		t.Fatalf("the first statement of a transaction on a terminated connection: %v, want it run on a new one", err)
	}
	if cn.Conn == dead {
		t.Error("the terminated connection was not replaced")
	}
	if _, err := cn.ExecContext(ctx, "INSERT INTO t VALUES (1)", nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rows, err := cn.QueryContext(ctx, "SELECT count(*) FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil || v[0] != int64(1) {
		t.Errorf("after the commit: %v, %v; want one row", v[0], err)
	}
}
