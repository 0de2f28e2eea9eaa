package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// testPostgresDSN is DOSSIER_TEST_POSTGRES, or skips the test (fails it
// with DOSSIER_REQUIRE_POSTGRES=1). Tests of this package cannot use
// testdb, which imports it.
func testPostgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("DOSSIER_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("DOSSIER_REQUIRE_POSTGRES") == "1" {
			t.Fatal("DOSSIER_REQUIRE_POSTGRES=1 but DOSSIER_TEST_POSTGRES is empty")
		}
		t.Skip("DOSSIER_TEST_POSTGRES is not set")
	}
	return dsn
}

// terminatedConn is a pgConn whose backend the server has terminated
// (pg_terminate_backend) after the pool's check would have passed: the
// FATAL message waits, unread, on the socket.
func terminatedConn(t *testing.T, inTx bool) *pgConn {
	t.Helper()
	return terminatedConnOf(t, testPostgresDSN(t), inTx)
}

func terminatedConnOf(t *testing.T, dsn string, inTx bool) *pgConn {
	t.Helper()
	ctx := context.Background()
	dc, err := newPGConnector(dsn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cn := dc.(*pgConn)
	t.Cleanup(func() { _ = cn.Close() })
	if inTx {
		if _, err := cn.BeginTx(ctx, driver.TxOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pid := backendPID(t, cn)
	adm, err := sql.Open("pg", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := adm.Exec("SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	for gone := false; !gone; time.Sleep(10 * time.Millisecond) {
		if err := adm.QueryRow("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&gone); err != nil {
			t.Fatal(err)
		}
	}
	return cn
}

// backendPID is the pid of cn's backend.
func backendPID(t *testing.T, cn *pgConn) any {
	t.Helper()
	rows, err := cn.QueryContext(context.Background(), "SELECT pg_backend_pid()", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	pid := make([]driver.Value, 1)
	if err := rows.Next(pid); err != nil {
		t.Fatal(err)
	}
	return pid[0]
}

// TestTerminatedBeforeStatement: a statement or a BEGIN sent on a
// connection whose backend was terminated just before fails in a way that
// proves it changed nothing, and is run again on a new connection in the
// dead one's place: the call succeeds.
func TestTerminatedBeforeStatement(t *testing.T) {
	ctx := context.Background()
	cn := terminatedConn(t, false)
	dead := cn.Conn
	if _, err := cn.ExecContext(ctx, "CREATE TEMPORARY TABLE t (x int)", nil); err != nil {
		t.Errorf("a statement on a terminated connection: %v, want it run on a new one", err)
	}
	if cn.Conn == dead {
		t.Error("the terminated connection was not replaced")
	}
	if _, err := terminatedConn(t, false).QueryContext(ctx, "SELECT 1", nil); err != nil {
		t.Errorf("a query on a terminated connection: %v, want it run on a new one", err)
	}
	cn = terminatedConn(t, false)
	tx, err := cn.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		t.Fatalf("BEGIN on a terminated connection: %v, want it run on a new one", err)
	}
	if err := tx.Commit(); err != nil {
		t.Error(err)
	}
}

// TestTerminatedFailsBadConn: the failure of a statement on a terminated
// connection is driver.ErrBadConn, which database/sql answers with another
// connection, and keeps the server's error in the chain.
func TestTerminatedFailsBadConn(t *testing.T) {
	ctx := context.Background()
	cn := terminatedConn(t, false)
	cn.mark()
	_, err := cn.Conn.QueryContext(ctx, "SELECT 1", nil)
	err = cn.retryable(ctx, err, false)
	if !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("a query on a terminated connection: %v, want driver.ErrBadConn", err)
	}
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('C') != "57P01" {
		t.Errorf("a query on a terminated connection: %v, want the server's 57P01 in the chain", err)
	}
	cn = terminatedConn(t, false)
	cn.mark()
	_, err = cn.Conn.BeginTx(ctx, driver.TxOptions{})
	if err := cn.retryable(ctx, err, true); !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("BEGIN on a terminated connection: %v, want driver.ErrBadConn", err)
	}
}

// TestResetSessionReplacesDead: a pooled connection whose backend ended
// while it was idle is replaced when database/sql hands it out again.
func TestResetSessionReplacesDead(t *testing.T) {
	cn := terminatedConn(t, false)
	time.Sleep(50 * time.Millisecond) // the FATAL message reaches the socket
	if err := cn.ResetSession(context.Background()); err != nil {
		t.Fatalf("ResetSession of a terminated connection: %v, want a new connection in its place", err)
	}
	backendPID(t, cn)
}

// TestTerminatedBeforeStatementTLS: the same over TLS, where the
// connector negotiates TLS itself to see the replies' bytes.
func TestTerminatedBeforeStatementTLS(t *testing.T) {
	u, err := url.Parse(testPostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("sslmode", "require")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	probe, err := newPGConnector(u.String()).Connect(ctx)
	if err != nil {
		t.Skipf("the server offers no TLS: %v", err)
	}
	rows, err := probe.(*pgConn).QueryContext(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", nil)
	if err != nil {
		t.Fatal(err)
	}
	ssl := make([]driver.Value, 1)
	if err := rows.Next(ssl); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	probe.Close()
	if ssl[0] != true {
		t.Fatalf("pg_stat_ssl.ssl = %v over sslmode=require", ssl[0])
	}
	cn := terminatedConnOf(t, u.String(), false)
	cn.mark()
	_, err = cn.Conn.QueryContext(ctx, "SELECT 1", nil)
	if err := cn.retryable(ctx, err, false); !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("a query on a terminated TLS connection: %v, want driver.ErrBadConn", err)
	}
}

// TestTerminatedInTransaction: inside a transaction a lost connection is
// never driver.ErrBadConn (database/sql cannot repeat the statements
// before it), and a COMMIT that got no answer is not either.
func TestTerminatedInTransaction(t *testing.T) {
	ctx := context.Background()
	cn := terminatedConn(t, true)
	_, err := cn.ExecContext(ctx, "SELECT 1", nil)
	if err == nil || errors.Is(err, driver.ErrBadConn) {
		t.Errorf("a statement in a transaction on a terminated connection: %v, want the server's error", err)
	}
}

// TestReplyAfterAnswer: a FATAL error after another message (here: after
// the rows of a statement whose backend is terminated by the statement
// itself) is not retried: the statement ran.
func TestReplyAfterAnswer(t *testing.T) {
	dsn := testPostgresDSN(t)
	ctx := context.Background()
	dc, err := newPGConnector(dsn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cn := dc.(*pgConn)
	defer cn.Close()
	_, err = cn.ExecContext(ctx, "SELECT 1; SELECT pg_terminate_backend(pg_backend_pid())", nil)
	if err == nil || errors.Is(err, driver.ErrBadConn) {
		t.Errorf("a termination after an answer: %v, want the server's error, not driver.ErrBadConn", err)
	}
}

// TestContextEndsWithAnswer: a call whose context ends just as its answer
// arrives succeeds, and its connection is not kept: the deadline the
// ending put on the socket would otherwise land on a later call, perhaps
// another caller's (a create in a group-commit batch failed as
// "unavailable" so, under load).
func TestContextEndsWithAnswer(t *testing.T) {
	dsn := testPostgresDSN(t)
	dc, err := newPGConnector(dsn).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cn := dc.(*pgConn)
	defer cn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := cn.watch(ctx)
	cancel() // the ending races the answer
	if err := done(nil); err != nil {
		t.Fatalf("the answered call: %v", err)
	}
	if cn.IsValid() {
		t.Fatal("the connection stays in the pool with a deadline set on its socket")
	}
	if err := cn.ResetSession(context.Background()); err != nil {
		t.Fatalf("ResetSession: %v", err)
	}
	if _, err := cn.ExecContext(context.Background(), "SELECT 1", nil); err != nil {
		t.Fatalf("the connection after ResetSession: %v", err)
	}
}
