package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// Benchmarks of inquiry lists at a million customers with 200,000
// inquiries of 20 staff users in 4 departments, on the report benchmarks'
// copies of the seeded databases (the originals are never changed):
//
//	DOSSIER_BENCH_MILLION=1 go test ./crm/store -run '^$' -bench Inquiries -benchtime 200x -timeout 2h

func BenchmarkInquiries(b *testing.B) {
	n := filterBenchCount(b)
	ctx := context.Background()
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := reportBenchDSNs(ctx, b, n)[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			st, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := seedReportsBySQL(ctx, b, st, n); err != nil {
				b.Fatalf("seed by SQL: %v", err)
			}
			if _, err := seedMillion(ctx, b, st, n); err != nil {
				b.Fatalf("seed: %v", err)
			}
			staff, err := seedInquiries(ctx, b, st, n)
			if err != nil {
				b.Fatalf("seed inquiries: %v", err)
			}
			runInquiryBenchmarks(b, st, staff)
		})
	}
}

func runInquiryBenchmarks(b *testing.B, st *DB, staff []string) {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	as := func(i int) context.Context {
		return crm.WithActor(crm.WithOrg(context.Background(), filterBenchOrg), crm.Staff(staff[i%len(staff)]))
	}
	var customer string
	if err := st.bun.NewSelect().Model((*inquiryRow)(nil)).Column("customer_id").Where("org_id = ?", filterBenchOrg).
		OrderExpr("id").Limit(1).Scan(context.Background(), &customer); err != nil {
		b.Fatal(err)
	}
	list := func(f func(i int) crm.InquiryFilter) func(i int) error {
		return func(i int) error {
			_, err := c.Inquiries.List(as(i), f(i), crm.PageRequest{})
			return err
		}
	}
	timedCPU(b, "List/firstPage", list(func(int) crm.InquiryFilter { return crm.InquiryFilter{} }))
	timedCPU(b, "List/mine", list(func(i int) crm.InquiryFilter { return crm.InquiryFilter{HandlerID: staff[i%len(staff)]} }))
	timedCPU(b, "List/openOverdue", list(func(int) crm.InquiryFilter { return crm.InquiryFilter{Overdue: true} }))
	timedCPU(b, "List/wonOrLost", list(func(int) crm.InquiryFilter {
		return crm.InquiryFilter{Status: []crm.InquiryStatus{crm.InquiryWon, crm.InquiryLost}}
	}))
	timedCPU(b, "List/customer", list(func(int) crm.InquiryFilter { return crm.InquiryFilter{CustomerID: customer} }))
	timedCPU(b, "List/search", list(func(int) crm.InquiryFilter { return crm.InquiryFilter{Search: "kreta"} }))
	timedCPU(b, "List/secondPage", func(i int) error {
		p, err := c.Inquiries.List(as(i), crm.InquiryFilter{}, crm.PageRequest{})
		if err != nil || p.Next == "" {
			return err
		}
		_, err = c.Inquiries.List(as(i), crm.InquiryFilter{}, crm.PageRequest{Cursor: p.Next})
		return err
	})
	timedCPU(b, "Count/open", func(i int) error {
		_, err := c.Inquiries.Count(as(i), crm.InquiryFilter{Open: true})
		return err
	})
	timedCPU(b, "Due", func(i int) error {
		_, err := c.Inquiries.Due(as(i))
		return err
	})
	timedCPU(b, "Report", func(i int) error {
		_, err := c.Reports.Run(as(i), crm.ReportInquiries, crm.ReportParams{})
		return err
	})
}

// seedInquiries makes 20 staff users in 4 departments and one inquiry per
// five customers, unless the copy has them: visibility 40% company, 25%
// department, 15% a person, 20% only the handler; statuses along the
// pipeline; planned days from two months ago to two months ahead.
func seedInquiries(ctx context.Context, b *testing.B, st *DB, n int) ([]string, error) {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		return nil, err
	}
	sys := crm.WithActor(crm.WithOrg(ctx, filterBenchOrg), crm.System())
	users, err := c.Staff.List(sys, crm.StaffListParams{})
	if err != nil {
		return nil, err
	}
	var staff []string
	for _, u := range users {
		if len(u.ID) == 36 {
			staff = append(staff, u.ID)
		}
	}
	var deps []string
	if len(staff) < 20 {
		for i := range 4 {
			d, err := c.Staff.CreateDepartment(sys, crm.NewDepartment{Name: fmt.Sprintf("Department %d", i)})
			if err != nil {
				return nil, err
			}
			deps = append(deps, d.ID)
		}
		for i := range 20 {
			u, err := c.Staff.Create(sys, crm.NewStaffUser{Name: fmt.Sprintf("Staff %02d", i), Role: crm.RoleStaff,
				Departments: []string{deps[i%4]}})
			if err != nil {
				return nil, err
			}
			staff = append(staff, u.ID)
		}
	} else {
		ds, err := c.Staff.Departments(sys)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			deps = append(deps, d.ID)
		}
	}
	if has, err := st.bun.NewSelect().Model((*inquiryRow)(nil)).Where("org_id = ?", filterBenchOrg).Exists(ctx); err != nil || has {
		return staff, err
	}
	start := time.Now()
	now := time.Now().UTC().Truncate(time.Microsecond)
	destinations := []string{"Kreta", "Madera", "Teneryfa", "Egipt", "Tajlandia", "Zakopane", "Rodos", "Malta"}
	statuses := []crm.InquiryStatus{crm.InquiryNew, crm.InquiryNew, crm.InquiryInProgress, crm.InquiryOfferSent, crm.InquiryWon, crm.InquiryLost}
	const batch = 5000
	for lo := int64(1); lo <= int64(n); lo += batch {
		err := st.InTx(ctx, func(tx crm.Store) error {
			db := tx.(*DB).db
			var customers []struct {
				ID     string `bun:"id"`
				Number int64  `bun:"number"`
			}
			if err := db.NewSelect().Model((*customerRow)(nil)).Column("id", "number").Where("org_id = ?", filterBenchOrg).
				Where("number BETWEEN ? AND ?", lo, lo+batch-1).Where("number % 5 = 0").Scan(ctx, &customers); err != nil {
				return err
			}
			var rows []inquiryRow
			var events []inquiryEventRow
			for _, cu := range customers {
				k := int(cu.Number / 5)
				handler := staff[k%len(staff)]
				q := &crm.Inquiry{ID: uuid.Must(uuid.NewV7()).String(), CustomerID: cu.ID, CreatedBy: handler,
					CreatedAt: now, UpdatedAt: now, Version: 1, InquiryFields: crm.InquiryFields{
						Title: destinations[k%len(destinations)] + " " + fmt.Sprint(k%12+1) + "/2027", Destination: destinations[k%len(destinations)],
						Travellers: 1 + k%5, Status: statuses[k%len(statuses)], HandlerID: handler, Visibility: crm.VisibleToCompany}}
				planned := crm.DateOf(now.AddDate(0, 0, k%120-60))
				q.PlannedOn = &planned
				switch v := k % 20; {
				case v < 5:
					q.Visibility, q.VisibleTo = crm.VisibleToDepartment, deps[k%len(deps)]
				case v < 8:
					q.Visibility, q.VisibleTo = crm.VisibleToPerson, staff[(k+7)%len(staff)]
				case v < 12:
					q.Visibility = crm.VisibleToMe
				}
				if q.Status.Final() {
					q.ClosedAt = &now
				}
				rows = append(rows, *inquiryToRow(filterBenchOrg, q))
				events = append(events, inquiryEventRow{OrgID: filterBenchOrg, ID: uuid.Must(uuid.NewV7()).String(), InquiryID: q.ID,
					CustomerID: cu.ID, Kind: string(crm.InquiryCreated), ActorKind: string(crm.ActorStaff), ActorID: handler, At: now})
			}
			if err := insertAll(ctx, db, rows); err != nil {
				return err
			}
			return insertAll(ctx, db, events)
		})
		if err != nil {
			return nil, err
		}
	}
	if err := analyzeSeeded(ctx, st, true); err != nil {
		return nil, err
	}
	b.Logf("inquiries seeded in %v", time.Since(start).Round(time.Second))
	return staff, nil
}
