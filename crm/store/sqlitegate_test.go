package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

func TestIsWrite(t *testing.T) {
	for q, want := range map[string]bool{
		"INSERT INTO t VALUES (1)":               true,
		"  update t SET a = 1":                   true,
		"DELETE FROM t":                          true,
		"replace into t values (1)":              true,
		"-- a comment\nINSERT INTO t VALUES (1)": true,
		preparedMarker + "UPDATE t SET a = 1":    true,
		"/* unfinished":                          false,
		"SELECT 1":                               false,
		"WITH x AS (SELECT 1) SELECT * FROM x":   false,
		"PRAGMA wal_checkpoint(TRUNCATE)":        false,
		"-- only a comment":                      false,
		"":                                       false,
	} {
		if got := isWrite(q); got != want {
			t.Errorf("isWrite(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestWriteGate: while one write transaction is open, reads (outside a
// transaction and in a read-only one) answer at once, a second writer
// waits in the gate and gives up when its context ends, and starts as soon
// as the first commits.
func TestWriteGate(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "gate.db"), WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.bun.ExecContext(ctx, "INSERT INTO organisations (id, name, default_language, created_at, updated_at) VALUES ('acme', 'Acme', 'nl', '2026-01-01', '2026-01-01')"); err != nil {
		t.Fatal(err)
	}

	inFirst, finishFirst := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- st.InTx(ctx, func(tx crm.Store) error {
			if _, err := tx.(*DB).db.NewRaw("UPDATE organisations SET name = 'First' WHERE id = 'acme'").Exec(ctx); err != nil {
				return err
			}
			close(inFirst)
			<-finishFirst
			return nil
		})
	}()
	<-inFirst

	// Reads do not wait for the writer.
	readCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var name string
	if err := st.bun.NewRaw("SELECT name FROM organisations WHERE id = 'acme'").Scan(readCtx, &name); err != nil || name != "Acme" {
		t.Fatalf("read during a write: %q, %v; want the committed name", name, err)
	}
	if err := st.bun.RunInTx(readCtx, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw("SELECT name FROM organisations WHERE id = 'acme'").Scan(ctx, &name)
	}); err != nil {
		t.Fatalf("read-only transaction during a write: %v", err)
	}

	// A second writer waits and gives up with its context.
	shortCtx, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	err = st.InTx(shortCtx, func(crm.Store) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a writer behind an open write transaction: %v, want the context's end", err)
	}

	// A waiting writer starts once the first ends.
	var wg sync.WaitGroup
	wg.Add(1)
	var secondErr error
	go func() {
		defer wg.Done()
		secondErr = st.InTx(ctx, func(tx crm.Store) error {
			_, err := tx.(*DB).db.NewRaw("UPDATE organisations SET name = 'Second' WHERE id = 'acme'").Exec(ctx)
			return err
		})
	}()
	time.Sleep(20 * time.Millisecond)
	close(finishFirst)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if secondErr != nil {
		t.Fatal(secondErr)
	}
	if err := st.bun.NewRaw("SELECT name FROM organisations WHERE id = 'acme'").Scan(ctx, &name); err != nil || name != "Second" {
		t.Fatalf("after both writers: %q, %v", name, err)
	}
}
