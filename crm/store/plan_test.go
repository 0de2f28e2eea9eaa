package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// planOf returns the plan PostgreSQL picks for query, as the node types
// and relations of EXPLAIN (FORMAT JSON), one line per node, indented.
func planOf(t *testing.T, s *store.DB, query string, args ...any) string {
	t.Helper()
	var out string
	if err := s.QueryRowArgsForTest(context.Background(), "EXPLAIN (FORMAT JSON) "+query, args, &out); err != nil {
		t.Fatal(err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n planNode, depth int)
	walk = func(n planNode, depth int) {
		fmt.Fprintf(&b, "%s%s %s %s rows=%.0f %s %s\n", strings.Repeat("  ", depth), n.NodeType, n.Relation, n.Index, n.Rows, n.Cond, n.Filter)
		for _, c := range n.Plans {
			walk(c, depth+1)
		}
	}
	walk(plans[0].Plan, 0)
	return b.String()
}

// runTime runs query under EXPLAIN ANALYZE and returns its execution
// time in milliseconds, for the log.
func runTime(t *testing.T, s *store.DB, query string, args ...any) float64 {
	t.Helper()
	var out string
	if err := s.QueryRowArgsForTest(context.Background(), "EXPLAIN (ANALYZE, FORMAT JSON) "+query, args, &out); err != nil {
		t.Fatal(err)
	}
	var plans []struct {
		ExecutionTime float64 `json:"Execution Time"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		t.Fatal(err)
	}
	return plans[0].ExecutionTime
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Rows     float64    `json:"Plan Rows"`
	Cond     string     `json:"Index Cond"`
	Filter   string     `json:"Filter"`
	Plans    []planNode `json:"Plans"`
}

// TestPostgresPlansWithoutStatistics: the tag-filtered count and the
// tag-filtered list by name keep a plan that does not loop over every
// tag link for every customer, with no statistics (never analysed).
func TestPostgresPlansWithoutStatistics(t *testing.T) {
	dsn := testdb.PostgresSchemaDSN(t)
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, store.WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "acme", Name: "Acme", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		t.Fatal(err)
	}
	admin := crm.WithActor(crm.WithOrg(ctx, "acme"), crm.System())
	tag, err := c.Tags.Define(admin, crm.NewQualifier{Name: "Plan test"})
	if err != nil {
		t.Fatal(err)
	}
	n := 800 // DOSSIER_PLAN_CUSTOMERS for a larger measurement
	if v, err := strconv.Atoi(os.Getenv("DOSSIER_PLAN_CUSTOMERS")); err == nil {
		n = v
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				cust, err := c.Customers.Create(admin, crm.CustomerFields{LastName: fmt.Sprint("Jansen ", i)})
				if err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					if _, err := c.Tags.Add(admin, cust.ID, tag.ID); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	count := "SELECT count(*) FROM customers AS c WHERE c.org_id = 'acme' AND c.number IN (SELECT number FROM customer_qualifiers WHERE org_id = 'acme' AND kind = 'tag' AND qualifier_id IN (?))"
	list := "SELECT c.number FROM customers AS c WHERE c.org_id = 'acme' AND c.number IN (SELECT number FROM customer_qualifiers WHERE org_id = 'acme' AND kind = 'tag' AND qualifier_id IN (?)) ORDER BY c.sort_key, c.number LIMIT 50"
	t.Logf("count, no statistics (%.1f ms):\n%s", runTime(t, st, count, tag.ID), planOf(t, st, count, tag.ID))
	t.Logf("list by name, no statistics (%.1f ms):\n%s", runTime(t, st, list, tag.ID), planOf(t, st, list, tag.ID))
	var never int
	if err := st.QueryRowForTest(ctx, "SELECT count(*) FROM pg_class WHERE relname = 'customer_qualifiers' AND relnamespace = current_schema()::regnamespace AND reltuples < 0", &never); err != nil || never != 1 {
		t.Fatalf("customer_qualifiers was analysed already (%d, %v): the test needs it without statistics", never, err)
	}
	// Opening the store again analyses the tables never analysed.
	st2, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	for _, q := range []string{count, list} {
		plan := planOf(t, st2, q, tag.ID)
		t.Logf("after Open (%.1f ms):\n%s", runTime(t, st2, q, tag.ID), plan)
		if strings.Contains(plan, "Nested Loop") {
			t.Errorf("a nested loop after the statistics were made:\n%s", plan)
		}
	}
}
