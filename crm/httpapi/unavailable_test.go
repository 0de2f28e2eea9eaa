package httpapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// wantUnavailable checks the answer to a call the database could not
// serve: 503, a Retry-After, and a problem type that says so.
func wantUnavailable(t *testing.T, r response) {
	t.Helper()
	p := r.wantProblem(t, http.StatusServiceUnavailable)
	if p.Type != "urn:dossier:problem:unavailable" {
		t.Errorf("problem type %q, want urn:dossier:problem:unavailable", p.Type)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

// TestUnavailablePostgres: a stopped PostgreSQL answers 503 with
// Retry-After, not 500.
func TestUnavailablePostgres(t *testing.T) {
	var proxy *testdb.Proxy
	ts := newTestServer(t, func(t testing.TB) *store.DB {
		var dsn string
		proxy, dsn = testdb.NewProxy(t, testdb.PostgresSchemaDSN(t))
		db, err := store.Open(context.Background(), dsn, store.WithMigrate())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
	ts.do("POST", "/v1/customers", ts.keyA, map[string]any{"lastName": "Jansen"}).want(t, http.StatusCreated)
	proxy.Stop()
	wantUnavailable(t, ts.do("GET", "/v1/customers", ts.keyA, nil))
	wantUnavailable(t, ts.do("POST", "/v1/customers", ts.keyA, map[string]any{"lastName": "Smit"}))
}

// TestUnavailableSQLiteFull: a full SQLite disk answers writes with 503
// and Retry-After, and reads as before.
func TestUnavailableSQLiteFull(t *testing.T) {
	ts := newTestServer(t, func(t testing.TB) *store.DB {
		path := filepath.Join(t.TempDir(), "full.db")
		db, err := store.Open(context.Background(), "sqlite:"+path, store.WithMigrate())
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		raw, err := sql.Open(sqliteshim.ShimName, path)
		if err != nil {
			t.Fatal(err)
		}
		var pages int
		if err := raw.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		db, err = store.Open(context.Background(), fmt.Sprintf("sqlite:%s?_pragma=max_page_count(%d)", path, pages+12))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
	var last response
	created := 0
	for i := 0; i < 5000; i++ {
		last = ts.do("POST", "/v1/customers", ts.keyA, map[string]any{"lastName": strings.Repeat("Jansen ", 12), "firstName": fmt.Sprint(i)})
		if last.status != http.StatusCreated {
			break
		}
		created++
	}
	if created == 0 {
		t.Fatalf("the database was full before the first customer: %d %s", last.status, last.body)
	}
	wantUnavailable(t, last)
	ts.do("GET", "/v1/customers", ts.keyA, nil).want(t, http.StatusOK)
}
