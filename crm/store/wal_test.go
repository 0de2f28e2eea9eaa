package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
)

// TestSQLiteWALBounded: under reads that never pause, writes keep the
// write-ahead log near its limit instead of growing without end.
//
// DOSSIER_WAL_SOAK=3m runs it for that long with the default limit (or
// DOSSIER_WAL_LIMIT bytes) and logs the log's largest size: the figures
// of docs/reliability.md.
func TestSQLiteWALBounded(t *testing.T) {
	limit := int64(1 << 20)
	soak, _ := time.ParseDuration(os.Getenv("DOSSIER_WAL_SOAK"))
	var opts []store.Option
	if soak > 0 {
		limit = store.DefaultWALLimit
		if l, err := strconv.ParseInt(os.Getenv("DOSSIER_WAL_LIMIT"), 10, 64); err == nil {
			limit = l
		}
	}
	opts = append(opts, store.WithWALLimit(limit))
	path := filepath.Join(t.TempDir(), "wal.db")
	st, err := store.Open(context.Background(), "sqlite:"+path, append(opts, store.WithMigrate())...)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, ctx := newCRM(t, st)

	// Two readers, each starting its next read as the last ends: at every
	// moment some read holds a snapshot.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if _, err := c.Customers.List(ctx, crm.CustomerFilter{}, crm.PageRequest{Limit: 100}); err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	var most int64
	writes := 0
	start := time.Now()
	for i := 0; (soak == 0 && i < 250) || (soak > 0 && time.Since(start) < soak); i++ {
		if _, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: fmt.Sprint("Jansen ", i), Email: fmt.Sprintf("j%d@example.nl", i)}); err != nil {
			t.Fatal(err)
		}
		writes++
		if fi, err := os.Stat(path + "-wal"); err == nil {
			most = max(most, fi.Size())
		}
	}
	stop.Store(true)
	wg.Wait()
	db, _ := os.Stat(path)
	t.Logf("%d writes, %d reads in %s: largest WAL %d KiB (limit %d KiB), database %d KiB",
		writes, reads.Load(), time.Since(start).Round(time.Second), most>>10, limit>>10, db.Size()>>10)
	// The log passes the limit by what is written between a look at its
	// size and the end of the checkpoint.
	if bound := 16 * limit; soak == 0 && most > bound {
		t.Errorf("the WAL grew to %d KiB, want at most %d KiB", most>>10, bound>>10)
	}
}

// TestSQLiteCommitsReachTheFile: a commit reaches the database file itself
// shortly after, without more writes and without waiting for the log to
// grow to SQLite's automatic checkpoint: the store copies the log in the
// background, so that no committing writer has to. The database file is
// copied without its log and read: what it holds is what was copied.
func TestSQLiteCommitsReachTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.db")
	st, err := store.Open(context.Background(), "sqlite:"+path, store.WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, ctx := newCRM(t, st)
	cust, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: "Jansen", Email: "jansen@example.nl"})
	if err != nil {
		t.Fatal(err)
	}
	inFile := func() bool {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		copyPath := filepath.Join(dir, fmt.Sprintf("copy-%d.db", time.Now().UnixNano()))
		if err := os.WriteFile(copyPath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cp, err := store.Open(context.Background(), "sqlite:"+copyPath)
		if err != nil {
			return false // the file is not yet a database with the schema
		}
		defer cp.Close()
		cc, err := crm.New(cp, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cc.Customers.Get(ctx, cust.ID)
		return err == nil
	}
	for deadline := time.Now().Add(20 * time.Second); !inFile(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the committed customer is still only in the write-ahead log after 20 s")
		}
	}
}
