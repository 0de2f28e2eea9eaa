package store

import (
	"bytes"
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"
)

// TestSQLiteLogStartsOver: under writes that never pause and reads that
// never pause, the write-ahead log starts over long before it reaches
// wal_autocheckpoint, so no committing writer checkpoints the whole log
// inside its COMMIT (passiveCheckpoint). Before, with a reader always
// reading, the log grew to wal_autocheckpoint each time.
func TestSQLiteLogStartsOver(t *testing.T) {
	ctx := context.Background()
	st := sqliteFileStore(t, "restart.db")
	walPath := st.wal.walPath
	if _, err := st.bun.ExecContext(ctx, "CREATE TABLE pages (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"); err != nil {
		t.Fatal(err)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 { // two readers, each starting its next read as the last ends
		wg.Go(func() {
			for !stop.Load() {
				var n int
				if err := st.bun.QueryRowContext(ctx, "SELECT count(*) FROM pages WHERE id % 7 = 0").Scan(&n); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	body := bytes.Repeat([]byte{0xd0}, 3000) // a page of its own per row
	// wal_autocheckpoint frames of 4 KiB pages: a log that reaches it is
	// one a committing writer checkpoints itself (each frame is a page and
	// a 24-byte header, so such a log is larger still).
	ceiling := int64(walAutoCheckpoint) * 4096
	var largest int64
	// About three times wal_autocheckpoint in frames, in transactions of 8 rows.
	for i := range 3 * walAutoCheckpoint / 8 {
		if err := st.runWriteTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for j := range 8 {
				if _, err := tx.ExecContext(ctx, "INSERT INTO pages (id, body) VALUES (?, ?)", i*8+j, body); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(walPath); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("largest log %d KiB", largest>>10)
	if largest > ceiling {
		t.Errorf("the log grew to %d KiB: it did not start over below %d KiB", largest>>10, ceiling>>10)
	}
}
