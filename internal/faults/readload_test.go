package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFaultReadLoad runs concurrent readers (lists, gets, name searches,
// counts) with one writer creating a customer every 20 ms, for the
// load's time. No answer may be a 5xx. On SQLite the size of the -wal
// file is sampled every 200 ms; its largest must stay under the store's
// default limit (64 MiB), and the figures record it.
func TestFaultReadLoad(t *testing.T) {
	sz := mode(t)
	eachDB(t, func(t *testing.T, dsn string) {
		srv := start(t, dsn, t.TempDir())
		c := newClient(srv.url, srv.key(t))
		var ids []string
		for i := range 300 {
			var v struct{ ID string }
			c.must(t, "POST", "/v1/customers", map[string]any{"firstName": "Read", "lastName": fmt.Sprintf("Load%03d", i),
				"email": fmt.Sprintf("read%d@example.org", i)}, http.StatusCreated, &v)
			ids = append(ids, v.ID)
		}

		ctx, cancel := context.WithTimeout(context.Background(), sz.readLoad)
		defer cancel()
		var reads, writes, fiveXX atomic.Int64
		var firstBad atomic.Value
		count := func(r reply, what string) {
			if r.status >= 500 {
				fiveXX.Add(1)
				firstBad.CompareAndSwap(nil, fmt.Sprintf("%s: %d %s", what, r.status, r.body))
			}
		}
		var wg sync.WaitGroup
		for range sz.readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < sz.maxOpsPerRun*10 && ctx.Err() == nil; i++ {
					var path string
					switch rand.IntN(4) {
					case 0:
						path = "/v1/customers?limit=100"
					case 1:
						path = "/v1/customers/" + ids[rand.IntN(len(ids))]
					case 2:
						path = fmt.Sprintf("/v1/customers?name=load%02d", rand.IntN(30))
					default:
						path = "/v1/customers/count"
					}
					r := c.do(ctx, "GET", path, nil)
					if r.err != nil {
						if ctx.Err() == nil {
							t.Errorf("GET %s: %v", path, r.err)
						}
						return
					}
					reads.Add(1)
					count(r, path)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				r := c.do(ctx, "POST", "/v1/customers", map[string]any{"firstName": "Write", "lastName": fmt.Sprint(i)})
				if r.err == nil {
					writes.Add(1)
					count(r, "create")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()

		var walMax int64
		wal := ""
		if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
			wal = p + "-wal"
		}
		for ctx.Err() == nil {
			if wal != "" {
				if st, err := os.Stat(wal); err == nil {
					walMax = max(walMax, st.Size())
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
		wg.Wait()
		srv.term(t)
		if n := fiveXX.Load(); n > 0 {
			t.Errorf("%d answers 5xx, the first: %v", n, firstBad.Load())
		}
		walNote := "n/a"
		if wal != "" {
			if walMax >= 64<<20 {
				t.Errorf("the WAL grew to %d bytes, past the 64 MiB limit", walMax)
			}
			db, _ := os.Stat(strings.TrimSuffix(wal, "-wal"))
			walNote = fmt.Sprintf("%.1f MiB (database %.1f MiB)", float64(walMax)/(1<<20), float64(db.Size())/(1<<20))
		}
		figures(t, "time=%s readers=%d reads=%d writes=%d 5xx=%d largest-WAL=%s",
			sz.readLoad, sz.readers, reads.Load(), writes.Load(), fiveXX.Load(), walNote)
	})
}
