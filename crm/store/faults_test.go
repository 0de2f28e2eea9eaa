package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// newCRM is a CRM on st with one organisation, and a context for it.
func newCRM(t testing.TB, st *store.DB) (*crm.CRM, context.Context) {
	t.Helper()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "acme", Name: "Acme", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		t.Fatal(err)
	}
	return c, crm.WithActor(crm.WithOrg(ctx, "acme"), crm.Staff(crm.AdministratorID))
}

// withAppName returns dsn with an application_name of the test's own, by
// which pg_stat_activity tells its backends from others.
func withAppName(t testing.TB, dsn string) (string, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("dossier-test-%d", time.Now().UnixNano())
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), name
}

func admin(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pg", testdb.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func backends(t testing.TB, adm *sql.DB, app, state string) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
	args := []any{app}
	if state != "" {
		q += " AND state = $2"
		args = append(args, state)
	}
	if err := adm.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPostgresUnreachable: a database that stops answering (the proxy in
// front of it closes everything) gives errors matching crm.ErrUnavailable,
// for reads and writes, not errors of unknown kind.
func TestPostgresUnreachable(t *testing.T) {
	dsn := testdb.PostgresSchemaDSN(t)
	proxy, pdsn := testdb.NewProxy(t, dsn)
	st, err := store.Open(context.Background(), pdsn, store.WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, ctx := newCRM(t, st)
	if _, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: "Jansen"}); err != nil {
		t.Fatal(err)
	}
	proxy.Stop()
	if _, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: "Smit"}); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("create on a stopped database: %v, want crm.ErrUnavailable", err)
	}
	if _, err := c.Customers.List(ctx, crm.CustomerFilter{}, crm.PageRequest{}); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("list on a stopped database: %v, want crm.ErrUnavailable", err)
	}
	if _, err := store.Open(context.Background(), pdsn); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("open of a stopped database: %v, want crm.ErrUnavailable", err)
	}
}

// fullSQLite opens an SQLite store whose file cannot grow by more than
// spare pages beyond its migrated size: a full disk, made small.
func fullSQLite(t testing.TB, spare int) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "full.db")
	st, err := store.Open(context.Background(), "sqlite:"+path, store.WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := st.QueryRowForTest(context.Background(), "PRAGMA page_count", &pages); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = store.Open(context.Background(), fmt.Sprintf("sqlite:%s?_pragma=max_page_count(%d)", path, pages+spare))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestSQLiteFull: when the database file cannot grow (SQLITE_FULL) a
// write fails with crm.ErrUnavailable, and what is stored is still read.
func TestSQLiteFull(t *testing.T) {
	st := fullSQLite(t, 12)
	c, ctx := newCRM(t, st)
	var first *crm.Customer
	var err error
	for i := 0; i < 5000; i++ {
		var cust *crm.Customer
		cust, err = c.Customers.Create(ctx, crm.CustomerFields{LastName: strings.Repeat("Jansen ", 12), FirstName: fmt.Sprint(i)})
		if err != nil {
			break
		}
		if first == nil {
			first = cust
		}
	}
	if !errors.Is(err, crm.ErrUnavailable) {
		t.Fatalf("create on a full database: %v, want crm.ErrUnavailable", err)
	}
	if first == nil {
		t.Fatal("the database was full before the first customer")
	}
	if _, err := c.Customers.Get(ctx, first.ID); err != nil {
		t.Errorf("read on a full database: %v", err)
	}
	if _, err := c.Customers.List(ctx, crm.CustomerFilter{}, crm.PageRequest{}); err != nil {
		t.Errorf("list on a full database: %v", err)
	}
}

// TestPostgresTerminatedConnections: backends terminated by the server
// while idle in the pool (pg_terminate_backend, a restart, a proxy
// timeout) cost no failed call: they are found dead and replaced.
func TestPostgresTerminatedConnections(t *testing.T) {
	dsn, app := withAppName(t, testdb.PostgresSchemaDSN(t))
	adm := admin(t)
	st, err := store.Open(context.Background(), dsn, store.WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, ctx := newCRM(t, st)
	const n = 6
	// n concurrent transactions leave n idle connections in the pool.
	var wg sync.WaitGroup
	hold := make(chan struct{})
	var started sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			_ = st.InTx(ctx, func(crm.Store) error { started.Done(); <-hold; return nil })
		}()
	}
	started.Wait()
	close(hold)
	wg.Wait()
	if idle := backends(t, adm, app, "idle"); idle < n {
		t.Fatalf("%d idle connections, want %d", idle, n)
	}
	if _, err := adm.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app); err != nil {
		t.Fatal(err)
	}
	for backends(t, adm, app, "") > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i <= n; i++ {
		if _, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: fmt.Sprint("Jansen ", i)}); err != nil {
			t.Errorf("call %d after the backends were terminated: %v", i+1, err)
		}
	}
}

// TestPostgresPoolBound: with at most 2 connections, 20 concurrent calls
// all succeed, waiting for a connection, and the server never sees more
// than 2 backends of the store.
func TestPostgresPoolBound(t *testing.T) {
	dsn, app := withAppName(t, testdb.PostgresSchemaDSN(t))
	adm := admin(t)
	st, err := store.Open(context.Background(), dsn, store.WithMigrate(), store.WithMaxConns(2))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, ctx := newCRM(t, st)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: fmt.Sprint("Jansen ", i)}); err != nil {
				errs <- err
			}
			if _, err := c.Customers.List(ctx, crm.CustomerFilter{}, crm.PageRequest{}); err != nil {
				errs <- err
			}
		}()
	}
	most := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		default:
			most = max(most, backends(t, adm, app, ""))
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if most > 2 {
		t.Errorf("%d backends at once, want at most 2", most)
	}
	if _, err := store.Open(context.Background(), dsn, store.WithMaxConns(1)); err == nil {
		t.Error("a pool of 1 connection was accepted: migrations need 2")
	}
}

// TestPostgresAbandonedQuery: a query whose context ends returns at once,
// and the server stops running it.
func TestPostgresAbandonedQuery(t *testing.T) {
	dsn, app := withAppName(t, testdb.PostgresSchemaDSN(t))
	adm := admin(t)
	st, err := store.Open(context.Background(), dsn, store.WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		name   string
		cancel func(context.Context) (context.Context, context.CancelFunc)
		want   error
	}{
		{"deadline", func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 300*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func(ctx context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(300*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.cancel(context.Background())
			defer cancel()
			err := st.ExecForTest(ctx, "SELECT pg_sleep(60)")
			if !errors.Is(err, tc.want) || !errors.Is(err, crm.ErrUnavailable) {
				t.Errorf("the abandoned query returned %v, want %v matching crm.ErrUnavailable", err, tc.want)
			}
			// The server ends the query once it sees the client gone
			// (client_connection_check_interval), long before the query's
			// 60 s: wait for that, the test's timeout being the bound.
			for {
				var running int
				if err := adm.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep(60)%' AND state = 'active'", app).Scan(&running); err != nil {
					t.Fatal(err)
				}
				if running == 0 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
