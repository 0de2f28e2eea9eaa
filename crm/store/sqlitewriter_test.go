package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// TestSQLiteWriter checks that the write transactions of a SQLite file run
// on one connection (a temporary table, which only the connection that
// made it sees, is there in every later write transaction, also under
// concurrent writers), that reads outside them do not wait for it, that
// after Close a write fails instead of hanging, and that Close may be
// called again.
func TestSQLiteWriter(t *testing.T) {
	ctx := context.Background()
	st := sqliteFileStore(t, "writer.db", WithMigrate())
	if st.shared.writer == nil {
		t.Fatal("a SQLite file has no writer")
	}
	if err := st.InTx(ctx, func(crm.Store) error {
		_, err := st.bun.DB.ExecContext(ctx, "SELECT 1") // a read on the pool meanwhile
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.runWriteTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "CREATE TEMP TABLE writer_probe (n INTEGER)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if err := st.runWriteTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					_, err := tx.ExecContext(ctx, "INSERT INTO temp.writer_probe VALUES (1)")
					return err
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var n int
	if err := st.runWriteTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM temp.writer_probe").Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	if n != 80 {
		t.Fatalf("the writer's temporary table has %d rows, want 80", n)
	}
	// No pooled connection sees the writer's temporary table.
	if err := st.bun.DB.QueryRowContext(ctx, "SELECT count(*) FROM temp.writer_probe").Scan(&n); err == nil {
		t.Fatal("a pooled connection sees the writer's temporary table")
	}

	// A file under a gigabyte gets the small page cache (see
	// writerCacheFor), still after writerCacheCheckEvery transactions.
	for range writerCacheCheckEvery + 1 {
		if err := st.runWriteTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return tx.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n != -writerSmallCacheKiB {
		t.Fatalf("the writer's cache_size is %d, want %d", n, -writerSmallCacheKiB)
	}
	for size, want := range map[int64]int{0: writerSmallCacheKiB, 1<<30 - 4096: writerSmallCacheKiB,
		1 << 30: writerCacheKiB, 5 << 30: writerCacheKiB} {
		if got := writerCacheFor(size); got != want {
			t.Errorf("writerCacheFor(%d) = %d KiB, want %d", size, got, want)
		}
	}

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	err := st.runWriteTx(ctx, func(ctx context.Context, tx bun.Tx) error { return nil })
	if !errors.Is(err, sql.ErrConnDone) {
		t.Fatalf("a write after Close: %v, want sql.ErrConnDone", err)
	}
	st.Close() // a second Close does not panic (and the test's cleanup closes it again)
}

// TestSQLiteMemoryHasNoWriter: an in-memory database's pool is its one
// connection, which a writer would take for good.
func TestSQLiteMemoryHasNoWriter(t *testing.T) {
	st, err := Open(context.Background(), "sqlite::memory:", WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.shared.writer != nil {
		t.Fatal("an in-memory database has a writer")
	}
}
