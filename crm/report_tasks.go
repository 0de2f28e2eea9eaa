package crm

import (
	"cmp"
	"context"
	"slices"
)

// ReportTasksOverdue counts the open tasks whose due day has passed, per
// owner. Over every customer it counts every task of the organisation,
// internal ones included; with a customer filter or a segment, the tasks
// about the customers it selects. The period bounds the tasks' due day
// (both days included), not the customers. "Passed" is before today in
// the organisation's time zone.
const ReportTasksOverdue ReportKind = "tasks-overdue"

// TaskReportStore computes the groups of the tasks report.
type TaskReportStore interface {
	// ReportTasksOverdue counts the open tasks due before q.Today (and in
	// [from, to] when set) by owner id (Keys[0]): every task of the
	// organisation when q.Customers selects every customer, else the
	// tasks about the customers it selects.
	ReportTasksOverdue(ctx context.Context, q ReportQuery, from, to *Date) ([]ReportGroup, error)
}

// tasksOverdue is the tasks report: overdue tasks by owner, the most
// overdue owner first.
func (s *ReportService) tasksOverdue(ctx context.Context, sc scope, q ReportQuery, from, to *Date, r *Report) error {
	r.Title = "Overdue tasks by owner"
	r.Dimensions, r.Measures = []string{"ownerId", "owner"}, []string{"overdue"}
	today, err := s.orgToday(ctx, s.store, sc)
	if err != nil {
		return err
	}
	q.Today = today
	groups, err := s.store.ReportTasksOverdue(ctx, q, from, to)
	if err != nil {
		return err
	}
	users, err := s.store.StaffList(ctx, StaffListParams{OrgID: sc.org})
	if err != nil {
		return err
	}
	name := func(id string) string {
		if i := slices.IndexFunc(users, func(u StaffUser) bool { return u.ID == id }); i >= 0 {
			return users[i].Name
		}
		return id
	}
	for _, g := range groups {
		r.Rows = append(r.Rows, ReportRow{Labels: []string{g.Keys[0], name(g.Keys[0])}, Values: []int64{g.Count}})
	}
	slices.SortFunc(r.Rows, func(a, b ReportRow) int {
		if c := cmp.Compare(b.Values[0], a.Values[0]); c != 0 {
			return c
		}
		return cmp.Compare(a.Labels[1]+"\x00"+a.Labels[0], b.Labels[1]+"\x00"+b.Labels[0])
	})
	return nil
}
