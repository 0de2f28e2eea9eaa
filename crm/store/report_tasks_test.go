package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestTasksOverdueReportEqualsSQL generates tasks (owners, due days around
// today, open and done, about customers or internal) in two organisations
// and checks the overdue-tasks report, over all customers, a filter, a
// segment and a period, against counts written directly in SQL. The
// organisation works in Tokyo, where it is already tomorrow in UTC terms:
// the tasks due on the UTC day are overdue there.
func TestTasksOverdueReportEqualsSQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		ctx := context.Background()
		now := time.Date(2026, 1, 10, 20, 0, 0, 0, time.UTC) // 05:00 on the 11th in Tokyo
		c, err := crm.New(st, crm.Config{Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		tokyo := "Asia/Tokyo"
		owners := map[string][]string{}
		for _, org := range []string{"rt-a", "rt-b"} {
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: org, Name: org, DefaultLanguage: "pl", DefaultCountry: "PL", TimeZone: tokyo}); err != nil {
				t.Fatal(err)
			}
			sys := crm.WithActor(crm.WithOrg(ctx, org), crm.System())
			for i := range 4 {
				u, err := c.Staff.Create(sys, crm.NewStaffUser{ID: fmt.Sprintf("%s-u%d", org, i), Name: fmt.Sprintf("Owner %d", i), Role: crm.RoleStaff})
				if err != nil {
					t.Fatal(err)
				}
				owners[org] = append(owners[org], u.ID)
			}
		}
		r := rand.New(rand.NewPCG(3, 4))
		statuses := []crm.CustomerStatus{crm.StatusLead, crm.StatusCustomer}
		for _, org := range []string{"rt-a", "rt-b"} {
			a := crm.WithActor(crm.WithOrg(ctx, org), crm.Staff(crm.AdministratorID))
			var customers []string
			for i := range 40 {
				cust, err := c.Customers.Create(a, crm.CustomerFields{LastName: fmt.Sprintf("K%d", i), Status: statuses[r.IntN(2)]})
				if err != nil {
					t.Fatal(err)
				}
				customers = append(customers, cust.ID)
			}
			for i := range 300 {
				in := crm.NewTask{Title: fmt.Sprintf("T%d", i), OwnerID: owners[org][r.IntN(4)],
					DueOn: crm.DateOf(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(50)))}
				if r.IntN(5) > 0 {
					in.CustomerID = customers[r.IntN(len(customers))]
				}
				task, err := c.Tasks.Create(a, in)
				if err != nil {
					t.Fatal(err)
				}
				if r.IntN(4) == 0 {
					if _, err := c.Tasks.Complete(a, task.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		a := crm.WithActor(crm.WithOrg(ctx, "rt-a"), crm.Staff(crm.AdministratorID))
		seg, err := c.Segments.Create(a, crm.NewSegment{Name: "leads", Filter: crm.CustomerFilter{Status: crm.StatusLead}})
		if err != nil {
			t.Fatal(err)
		}
		db := st.SQLDB()
		count := func(query string) int64 {
			t.Helper()
			var n int64
			if err := db.QueryRowContext(ctx, query).Scan(&n); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			return n
		}
		from, to := crm.MustDate("2025-12-10"), crm.MustDate("2026-01-05")
		const base = "FROM tasks AS t WHERE t.org_id = 'rt-a' AND t.status = 'open' AND t.due_on < '2026-01-11'"
		const leads = " AND t.customer_id IN (SELECT id FROM customers WHERE org_id = 'rt-a' AND status = 'lead')"
		for _, tc := range []struct {
			name   string
			params crm.ReportParams
			where  string
		}{
			{"all", crm.ReportParams{}, ""},
			{"filter", crm.ReportParams{Filter: crm.CustomerFilter{Status: crm.StatusLead}}, leads},
			{"segment", crm.ReportParams{Segment: seg.ID}, leads},
			{"period", crm.ReportParams{From: &from, To: &to}, " AND t.due_on >= '2025-12-10' AND t.due_on <= '2026-01-05'"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rep, err := c.Reports.Run(a, crm.ReportTasksOverdue, tc.params)
				if err != nil {
					t.Fatal(err)
				}
				total := count("SELECT count(*) " + base + tc.where)
				if total == 0 || rep.Total(0) != total {
					t.Fatalf("report total %d, SQL %d", rep.Total(0), total)
				}
				for _, row := range rep.Rows {
					want := count("SELECT count(*) " + base + tc.where + " AND t.owner_id = '" + row.Labels[0] + "'")
					if row.Values[0] != want || row.Labels[1] == row.Labels[0] {
						t.Errorf("owner %v: %d, SQL %d", row.Labels, row.Values[0], want)
					}
				}
				if owners := count("SELECT count(DISTINCT t.owner_id) " + base + tc.where); int64(len(rep.Rows)) != owners {
					t.Errorf("%d rows, SQL has %d owners", len(rep.Rows), owners)
				}
				for i := 1; i < len(rep.Rows); i++ {
					if rep.Rows[i].Values[0] > rep.Rows[i-1].Values[0] {
						t.Errorf("rows not by overdue count: %+v", rep.Rows)
					}
				}
			})
		}
		// Tasks due on the UTC day (the 10th) are overdue in Tokyo.
		if n := count("SELECT count(*) " + base + " AND t.due_on = '2026-01-10'"); n == 0 {
			t.Fatal("the data set has no open task due on the 10th")
		}
	})
}
