package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// analysed reports whether table has planner statistics made after since:
// pg_stat_user_tables.last_analyze on PostgreSQL, rows of sqlite_stat1 on
// SQLite (which keeps no time).
func analysed(t *testing.T, st *store.DB, table string, since time.Time) bool {
	t.Helper()
	ctx := context.Background()
	if st.Dialect() == "sqlite" {
		var n int
		if err := st.SQLDB().QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return false
		}
		if err := st.SQLDB().QueryRowContext(ctx, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = ?", table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	var last *time.Time
	if err := st.SQLDB().QueryRowContext(ctx,
		"SELECT last_analyze FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = $1", table).Scan(&last); err != nil {
		t.Fatal(err)
	}
	return last != nil && last.After(since)
}

// insertsCounted is the number of rows inserted into table that
// PostgreSQL's statistics views have counted so far.
func insertsCounted(t *testing.T, st *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := st.SQLDB().QueryRowContext(context.Background(),
		"SELECT n_tup_ins FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = $1", table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAnalyzeChanged: a table that grew after the store was opened (so
// Open had nothing to analyse) is analysed by AnalyzeChanged, which names
// it; a second call with nothing changed since analyses nothing of it.
func TestAnalyzeChanged(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		c, ctx := newCRM(t, st)
		// After Open and Migrate, which analyse what they made: only what
		// comes later counts. (PostgreSQL runs on this host, on its clock.)
		start := time.Now()
		if analysed(t, st, "customers", start) {
			t.Fatal("customers analysed before it held any")
		}
		for i := range 300 {
			if _, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: fmt.Sprint("Jansen ", i)}); err != nil {
				t.Fatal(err)
			}
		}
		// PostgreSQL's backends report their changes to the statistics
		// views when they go idle, within seconds, each on its own clock.
		// Wait until every insert is counted: were customers analysed when
		// only some were, the rest, counted later, would rightly call for
		// another analysis.
		deadline := time.Now().Add(30 * time.Second)
		for st.Dialect() == "postgres" && insertsCounted(t, st, "customers") < 300 {
			if time.Now().After(deadline) {
				t.Fatal("the statistics views never counted the 300 inserts")
			}
			time.Sleep(100 * time.Millisecond)
		}
		var got []string
		for !slices.Contains(got, "customers") {
			if time.Now().After(deadline) {
				t.Fatalf("customers not analysed after 300 inserts; analysed: %v", got)
			}
			var err error
			if got, err = st.AnalyzeChanged(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !analysed(t, st, "customers", start) {
			t.Error("AnalyzeChanged named customers, but it has no statistics")
		}
		again, err := st.AnalyzeChanged(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(again, "customers") {
			t.Errorf("customers analysed again with nothing changed: %v", again)
		}
	})
}
