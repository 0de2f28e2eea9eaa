package faults

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// withAppName returns dsn with the PostgreSQL application_name set, so
// that pg_stat_activity tells the server's backends from everyone else's.
func withAppName(t *testing.T, dsn, name string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestFaultPostgresTerminated terminates the server's idle PostgreSQL
// backends (pg_terminate_backend by application_name) every 100 ms while
// clients read and create. No answer may be a 500: reads are retried by
// the client on a 503 or a dropped connection, creates are retried with
// their Idempotency-Key, and a create repeated after its 201 must get the
// same customer back. In the end the customers stored are exactly the
// creates acknowledged.
func TestFaultPostgresTerminated(t *testing.T) {
	sz := mode(t)
	app := "dossier-faults-" + randomHex(4)
	dsn := withAppName(t, testdb.PostgresSchemaDSN(t), app)
	admin, err := sql.Open("pg", testdb.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	srv := start(t, dsn, t.TempDir())
	key := srv.key(t)
	c := newClient(srv.url, key)
	var seeded []string
	for i := range 40 {
		var v struct{ ID string }
		c.must(t, "POST", "/v1/customers", map[string]any{"firstName": "Seed", "lastName": fmt.Sprint(i)}, http.StatusCreated, &v)
		seeded = append(seeded, v.ID)
	}

	var requests, retried, unavailable, dropped, fiveHundred, terminated, created, replays atomic.Int64
	var firstBad, first503 atomic.Value
	for round := range sz.termRounds {
		ctx, cancel := context.WithTimeout(context.Background(), sz.termLoad)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var n int64
				err := admin.QueryRowContext(context.Background(),
					`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'`, app).Scan(&n)
				if err != nil {
					t.Errorf("terminating: %v", err)
					return
				}
				terminated.Add(n)
				time.Sleep(100 * time.Millisecond)
			}
		}()
		// once makes a request until it has an answer that is not a 503:
		// what a client that retries safe requests does.
		once := func(method, path string, body any, headers ...string) reply {
			for attempt := 0; ; attempt++ {
				r := c.do(context.Background(), method, path, body, headers...)
				requests.Add(1)
				if r.status >= 500 && r.status != http.StatusServiceUnavailable {
					fiveHundred.Add(1)
					firstBad.CompareAndSwap(nil, fmt.Sprintf("%s %s: %d %s", method, path, r.status, r.body))
				}
				if (r.err == nil && r.status != http.StatusServiceUnavailable) || attempt == 20 {
					return r
				}
				retried.Add(1)
				if r.err != nil {
					dropped.Add(1)
				} else {
					unavailable.Add(1)
					first503.CompareAndSwap(nil, fmt.Sprintf("%s %s: %s", method, path, r.body))
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		for w := range sz.writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < sz.maxOpsPerRun && ctx.Err() == nil; i++ {
					switch p := rand.IntN(10); {
					case p < 4:
						once("GET", "/v1/customers/"+seeded[rand.IntN(len(seeded))], nil)
					case p < 7:
						once("GET", "/v1/customers?limit=20", nil)
					default:
						k := fmt.Sprintf("term-%d-%d-%d", round, w, i)
						body := map[string]any{"firstName": "Term", "lastName": k}
						r := once("POST", "/v1/customers", body, "Idempotency-Key", k)
						var first struct{ ID string }
						if r.status != http.StatusCreated || r.decode(&first) != nil {
							t.Errorf("create %s: %d %s %v", k, r.status, r.body, r.err)
							continue
						}
						created.Add(1)
						if p == 9 {
							var again struct{ ID string }
							r := once("POST", "/v1/customers", body, "Idempotency-Key", k)
							replays.Add(1)
							if r.status != http.StatusCreated || r.decode(&again) != nil || again.ID != first.ID {
								t.Errorf("repeated create %s: %d %s, first answer %s", k, r.status, r.body, first.ID)
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		cancel()
	}
	var n struct{ Count int64 }
	c.must(t, "GET", "/v1/customers/count", nil, http.StatusOK, &n)
	if want := int64(len(seeded)) + created.Load(); n.Count != want {
		t.Errorf("%d customers stored, want %d (40 seeded and the acknowledged creates)", n.Count, want)
	}
	if unavailable.Load() > 0 {
		t.Logf("the first 503: %v", first503.Load())
		for _, line := range strings.Split(srv.stderr.String(), "\n") {
			if strings.Contains(line, "status=503") || strings.Contains(line, "unavailable") {
				t.Logf("server: %s", line)
				break
			}
		}
	}
	srv.term(t)
	if fiveHundred.Load() > 0 {
		t.Errorf("%d answers 5xx other than 503, the first: %v", fiveHundred.Load(), firstBad.Load())
	}
	figures(t, "rounds=%d clients=%d requests=%d backends-terminated=%d retried=%d (503=%d dropped=%d) creates=%d repeated-creates=%d 500=%d",
		sz.termRounds, sz.writers, requests.Load(), terminated.Load(), retried.Load(), unavailable.Load(), dropped.Load(), created.Load(), replays.Load(), fiveHundred.Load())
}
