package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// testInquiryDays: an inquiry's planned day passes at midnight in the
// reader's time zone (the staff user's, else the organisation's), not in
// UTC: the overdue flag, the overdue filter and the three days of the
// reminders all move there.
func testInquiryDays(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	warsaw := "Europe/Warsaw"
	if _, err := e.crm.Organisations.Update(e.a, orgA, crm.OrganisationPatch{TimeZone: &warsaw}); err != nil {
		t.Fatal(err)
	}
	for id, tz := range map[string]string{"waw": "", "nyc": "America/New_York"} {
		if _, err := e.crm.Staff.Create(e.a, crm.NewStaffUser{ID: id, Name: id, Role: crm.RoleStaff, TimeZone: tz}); err != nil {
			t.Fatal(err)
		}
	}
	as := func(id string) context.Context { return crm.WithActor(e.a, crm.Staff(id)) }
	c := e.create(e.a, crm.CustomerFields{LastName: "Zielińska"})
	planned := map[string]*crm.Inquiry{}
	for _, x := range []struct{ handler, day string }{{"waw", "2026-11-22"}, {"waw", "2026-11-25"}, {"nyc", "2026-11-22"}} {
		d := crm.MustDate(x.day)
		q, err := e.crm.Inquiries.Create(as(x.handler), c.ID, crm.InquiryFields{Title: x.handler + " " + x.day, PlannedOn: &d})
		if err != nil {
			t.Fatal(err)
		}
		planned[x.handler+" "+x.day] = q
	}
	sys := crm.WithActor(e.a, crm.System())
	check := func(at time.Time, who string, overdue bool, due []string, sysOverdue int64) {
		t.Helper()
		e.now = at
		ctx := as(who)
		q, err := e.crm.Inquiries.Get(ctx, planned[who+" 2026-11-22"].ID)
		if err != nil || q.Overdue != overdue {
			t.Fatalf("%s at %v: overdue %v (%v), want %v", who, at, q.Overdue, err, overdue)
		}
		n, err := e.crm.Inquiries.Count(ctx, crm.InquiryFilter{Overdue: true, HandlerID: who})
		if err != nil || (n == 1) != overdue {
			t.Fatalf("%s at %v: %d overdue by the filter (%v), want %v", who, at, n, err, overdue)
		}
		items, err := e.crm.Inquiries.Due(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		for _, q := range items {
			titles = append(titles, q.Title)
			if q.Overdue != (q.Title == who+" 2026-11-22" && overdue) {
				t.Fatalf("%s at %v: due %q flagged %v", who, at, q.Title, q.Overdue)
			}
		}
		if !slices.Equal(titles, due) {
			t.Fatalf("%s at %v: due %v, want %v", who, at, titles, due)
		}
		r, err := e.crm.Tasks.Mine(ctx)
		if err != nil || len(r.Inquiries) != len(due) {
			t.Fatalf("%s at %v: reminders' inquiries %+v, %v", who, at, r, err)
		}
		// The system reads in the organisation's zone (Warsaw): for it both
		// inquiries of the 22nd are overdue from Warsaw's midnight on.
		if n, err := e.crm.Inquiries.Count(sys, crm.InquiryFilter{Overdue: true}); err != nil || n != sysOverdue {
			t.Fatalf("the system at %v counts %d overdue (%v), want %d", at, n, err, sysOverdue)
		}
	}
	// 23:59:59 on the 22nd in Warsaw (22:59:59 UTC): nothing is overdue,
	// and the 25th is four days away.
	before := time.Date(2026, 11, 22, 22, 59, 59, 0, time.UTC)
	check(before, "waw", false, []string{"waw 2026-11-22"}, 0)
	// Midnight in Warsaw, still the 22nd in UTC and in New York.
	midnight := before.Add(time.Second)
	check(midnight, "waw", true, []string{"waw 2026-11-22", "waw 2026-11-25"}, 2)
	check(midnight, "nyc", false, []string{"nyc 2026-11-22"}, 2)
	// Midnight in New York (05:00 UTC).
	check(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC), "nyc", true, []string{"nyc 2026-11-22"}, 2)
	// A final status ends the flag.
	e.now = midnight
	won := crm.InquiryWon
	q := planned["waw 2026-11-22"]
	if q, err := e.crm.Inquiries.Update(as("waw"), q.ID, q.Version, crm.InquiryPatch{Status: &won}); err != nil || q.Overdue {
		t.Fatalf("won %+v, %v", q, err)
	}
}
