package store

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/storetest"
)

// customerRefColumns are the column names that hold a customer's id.
func isCustomerRef(table, col string) bool {
	return col == "customer_id" || col == "holder_id" || strings.HasSuffix(col, "_customer_id") ||
		col == "survivor_id" || (table == "customers" && col == "id")
}

// TestMergeCoversEveryCustomerTable enumerates the schema's columns that
// refer to customers: each must be named in mergeTables. It then merges
// the distinctive customer (rows in every such table) into a plain one:
// afterwards no column anywhere holds the distinctive customer's id.
func TestMergeCoversEveryCustomerTable(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		c, ctx := newTestCRM(t, db)
		d := storetest.MakeDistinctive(t, c, ctx)
		type ref struct{ table, col string }
		var found []ref
		for table, cols := range columns(t, db) {
			for _, col := range cols {
				if !isCustomerRef(table, col) {
					continue
				}
				found = append(found, ref{table, col})
				if !slices.ContainsFunc(mergeTables, func(m mergeTable) bool { return m.table == table && m.column == col }) {
					t.Errorf("%s.%s refers to customers but the merge does not handle it: add a line to mergeTables in crm/store/merge.go", table, col)
				}
			}
		}
		for _, m := range mergeTables {
			if !slices.Contains(found, ref{m.table, m.column}) {
				t.Errorf("mergeTables names %s.%s, which does not refer to customers any more", m.table, m.column)
			}
		}
		surv, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: "Survivor"})
		if err != nil {
			t.Fatal(err)
		}
		// The distinctive customer has a portal account; the survivor has none.
		if _, err := c.Merges.Merge(ctx, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: d.Customer.ID,
			SurvivorVersion: surv.Version, DuplicateVersion: d.Customer.Version, TakeFromDuplicate: []string{"loginEmail"}}); err != nil {
			t.Fatal(err)
		}
		for _, r := range found {
			if r.table == "customer_tombstones" {
				continue
			}
			n, err := db.bun.NewSelect().TableExpr(r.table).Where(r.col+" = ?", d.Customer.ID).Count(context.Background())
			if err != nil || n != 0 {
				t.Errorf("after the merge %s.%s still holds the duplicate (%d rows, %v)", r.table, r.col, n, err)
			}
		}
	})
}
