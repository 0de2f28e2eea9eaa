package storetest

import (
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testTasksOverdueReport: the overdue-tasks report counts one
// organisation's open tasks due before today, by owner, internal ones
// over every customer and only the selected customers' through a filter.
func testTasksOverdueReport(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.Staff.Create(e.a, crm.NewStaffUser{ID: "ola", Name: "Ola", Role: crm.RoleStaff}); err != nil {
		t.Fatal(err)
	}
	lead := e.create(e.a, crm.CustomerFields{LastName: "Lead", Status: crm.StatusLead})
	cust := e.create(e.a, crm.CustomerFields{LastName: "Klient"})
	today := crm.DateOf(testNow)
	yesterday, lastWeek := crm.DateOf(testNow.AddDate(0, 0, -1)), crm.DateOf(testNow.AddDate(0, 0, -7))
	for _, in := range []crm.NewTask{
		{Title: "lead, overdue", DueOn: yesterday, OwnerID: "ola", CustomerID: lead.ID},
		{Title: "lead, last week", DueOn: lastWeek, OwnerID: "ola", CustomerID: lead.ID},
		{Title: "customer, overdue", DueOn: yesterday, CustomerID: cust.ID},
		{Title: "internal, overdue", DueOn: lastWeek},
		{Title: "due today", DueOn: today, OwnerID: "ola"},
	} {
		if _, err := e.crm.Tasks.Create(e.a, in); err != nil {
			t.Fatal(err)
		}
	}
	done, err := e.crm.Tasks.Create(e.a, crm.NewTask{Title: "done", DueOn: lastWeek, OwnerID: "ola"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Tasks.Complete(e.a, done.ID); err != nil {
		t.Fatal(err)
	}
	// B's overdue tasks are never A's.
	if _, err := e.crm.Tasks.Create(e.b, crm.NewTask{Title: "B", DueOn: lastWeek}); err != nil {
		t.Fatal(err)
	}
	run := func(p crm.ReportParams) map[string]int64 {
		t.Helper()
		r, err := e.crm.Reports.Run(e.a, crm.ReportTasksOverdue, p)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, row := range r.Rows {
			out[row.Labels[0]+"/"+row.Labels[1]] = row.Values[0]
		}
		return out
	}
	if got := run(crm.ReportParams{}); len(got) != 2 || got["ola/Ola"] != 2 || got["staff-a/Staff org-a"] != 2 {
		t.Fatalf("every task: %v", got)
	}
	if got := run(crm.ReportParams{Filter: crm.CustomerFilter{Status: crm.StatusLead}}); len(got) != 1 || got["ola/Ola"] != 2 {
		t.Fatalf("the leads' tasks: %v", got)
	}
	if got := run(crm.ReportParams{From: &yesterday, To: &today}); len(got) != 2 || got["ola/Ola"] != 1 || got["staff-a/Staff org-a"] != 1 {
		t.Fatalf("due since yesterday: %v", got)
	}
	r, err := e.crm.Reports.Run(e.b, crm.ReportTasksOverdue, crm.ReportParams{})
	if err != nil || r.Total(0) != 1 {
		t.Fatalf("B's report %+v, %v", r, err)
	}
	// A period that ends before it starts is refused.
	_, err = e.crm.Reports.Run(e.a, crm.ReportTasksOverdue, crm.ReportParams{From: &today, To: &yesterday})
	wantInvalid(t, err, "to", "invalid")
}
