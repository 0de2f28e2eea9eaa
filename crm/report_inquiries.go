package crm

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// inquiryOutcomes is the inquiries report: the inquiries the reader may
// see, of the customers the filter selects, created in the period, as
// won, lost and open per department and handler. A handler in several
// departments is counted in each; one in none under department "".
func (s *ReportService) inquiryOutcomes(ctx context.Context, sc scope, q ReportQuery, from, to time.Time, r *Report) error {
	r.Title = "Inquiries won, lost and open by department and handler"
	r.Dimensions, r.Measures = []string{"departmentId", "department", "handlerId", "handler"}, []string{"won", "lost", "open"}
	sc.actor, _ = ActorFrom(ctx)
	viewer, err := (&InquiryService{core: s.core}).viewer(ctx, s.store, sc)
	if err != nil {
		return err
	}
	groups, err := s.store.InquiryOutcomes(ctx, q, viewer, from, to)
	if err != nil {
		return err
	}
	pipeline, err := s.pipeline(ctx, s.store, sc)
	if err != nil {
		return err
	}
	kinds := statusKinds(pipeline)
	users, err := s.store.StaffList(ctx, StaffListParams{OrgID: sc.org})
	if err != nil {
		return err
	}
	deps, err := s.store.DepartmentList(ctx, sc.org)
	if err != nil {
		return err
	}
	depName := map[string]string{}
	for _, d := range deps {
		depName[d.ID] = d.Name
	}
	type key struct{ dep, handler string }
	counts := map[key]*[3]int64{}
	for _, g := range groups {
		u := slices.IndexFunc(users, func(u StaffUser) bool { return u.ID == g.Keys[0] })
		ds := []string{""}
		if u >= 0 && len(users[u].Departments) > 0 {
			ds = users[u].Departments
		}
		for _, d := range ds {
			k := key{d, g.Keys[0]}
			if counts[k] == nil {
				counts[k] = &[3]int64{}
			}
			switch kinds[InquiryStatus(g.Keys[1])] {
			case PipelineWon:
				counts[k][0] += g.Count
			case PipelineLost:
				counts[k][1] += g.Count
			default:
				counts[k][2] += g.Count
			}
		}
	}
	name := func(id string) string {
		if i := slices.IndexFunc(users, func(u StaffUser) bool { return u.ID == id }); i >= 0 {
			return users[i].Name
		}
		return id
	}
	for k, c := range counts {
		r.Rows = append(r.Rows, ReportRow{Labels: []string{k.dep, depName[k.dep], k.handler, name(k.handler)}, Values: c[:]})
	}
	slices.SortFunc(r.Rows, func(a, b ReportRow) int {
		if c := cmp.Compare(a.Labels[1], b.Labels[1]); c != 0 {
			return c
		}
		return cmp.Compare(a.Labels[3]+a.Labels[2], b.Labels[3]+b.Labels[2])
	})
	return nil
}
