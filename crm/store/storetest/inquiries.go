package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// inquiryWorld is an organisation's staff for the inquiry tests: a
// handler and a colleague in sales, a named person, an outsider in the
// back office, and an administrator.
type inquiryWorld struct {
	sales, office                           string // department ids
	handler, colleague, person, outsider, a string // staff ids (a: the administrator)
	ctx                                     map[string]context.Context
}

func (e *env) inquiryWorld(org context.Context) *inquiryWorld {
	e.t.Helper()
	orgID, _ := crm.OrgFrom(org)
	admin := crm.WithActor(crm.WithOrg(context.Background(), orgID), crm.System())
	w := &inquiryWorld{ctx: map[string]context.Context{}}
	for _, d := range []struct {
		name string
		id   *string
	}{{"Sales", &w.sales}, {"Back office", &w.office}} {
		dep, err := e.crm.Staff.CreateDepartment(admin, crm.NewDepartment{Name: d.name})
		if err != nil {
			e.t.Fatal(err)
		}
		*d.id = dep.ID
	}
	for _, u := range []struct {
		id   *string
		name string
		deps []string
		role crm.StaffRole
	}{{&w.handler, "Hanna", []string{w.sales}, crm.RoleStaff}, {&w.colleague, "Kasia", []string{w.sales}, crm.RoleStaff},
		{&w.person, "Piotr", nil, crm.RoleStaff}, {&w.outsider, "Olek", []string{w.office}, crm.RoleStaff},
		{&w.a, "Ada", nil, crm.RoleAdministrator}} {
		su, err := e.crm.Staff.Create(admin, crm.NewStaffUser{Name: u.name, Departments: u.deps, Role: u.role})
		if err != nil {
			e.t.Fatal(err)
		}
		*u.id = su.ID
		w.ctx[su.ID] = crm.WithActor(crm.WithOrg(context.Background(), orgID), crm.Staff(su.ID))
	}
	return w
}

// testInquiries covers the pipeline, history, comments, the overdue flag,
// the reminders' three days and "new customer with an inquiry".
func testInquiries(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	w := e.inquiryWorld(e.a)
	h := w.ctx[w.handler]
	c := e.create(e.a, crm.CustomerFields{FirstName: "Zofia", LastName: "Wiśniewska"})
	planned := crm.DateOf(testNow.AddDate(0, 0, 2))
	q, err := e.crm.Inquiries.Create(h, c.ID, crm.InquiryFields{Title: "Kreta, lipiec", Destination: "Kreta", Period: "lipiec 2027",
		Duration: 14, Budget: &crm.Money{Amount: 1200000, Currency: "PLN"}, Travellers: 4, Board: "all inclusive",
		Notes: "Dwoje dzieci\nbasen", Fields: map[string]string{"airport": "WAW"}, PlannedOn: &planned})
	if err != nil {
		t.Fatal(err)
	}
	if q.Status != crm.InquiryNew || q.HandlerID != w.handler || q.Visibility != crm.VisibleToCompany || q.Version != 1 || q.Overdue {
		t.Fatalf("created %+v", q)
	}
	got, err := e.crm.Inquiries.Get(h, q.ID)
	if err != nil || got.Destination != "Kreta" || got.Budget == nil || got.Budget.Amount != 1200000 || got.Fields["airport"] != "WAW" ||
		got.Notes != "Dwoje dzieci\nbasen" || *got.PlannedOn != planned {
		t.Fatalf("read back %+v, %v", got, err)
	}
	due, err := e.crm.Inquiries.Due(h)
	if err != nil || len(due) != 1 || due[0].ID != q.ID {
		t.Fatalf("due within three days: %+v, %v", due, err)
	}
	if r, err := e.crm.Tasks.Mine(h); err != nil || len(r.Inquiries) != 1 || r.Inquiries[0].ID != q.ID {
		t.Fatalf("my reminders' inquiries: %+v, %v", r, err)
	}
	if due, _ := e.crm.Inquiries.Due(w.ctx[w.colleague]); len(due) != 0 {
		t.Fatalf("the colleague's reminders show the handler's inquiry: %+v", due)
	}
	// Changes and comments are its history; a stale version is refused.
	st := crm.InquiryOfferSent
	q2, err := e.crm.Inquiries.Update(h, q.ID, 1, crm.InquiryPatch{Status: &st, HandlerID: &w.colleague})
	if err != nil || q2.Version != 2 || q2.Status != st || q2.HandlerID != w.colleague {
		t.Fatalf("update %+v, %v", q2, err)
	}
	_, err = e.crm.Inquiries.Update(h, q.ID, 1, crm.InquiryPatch{Status: &st})
	wantErr(t, err, crm.ErrStaleVersion)
	if _, err := e.crm.Inquiries.Comment(w.ctx[w.colleague], q.ID, "Oferta wysłana mailem"); err != nil {
		t.Fatal(err)
	}
	hist, err := e.crm.Inquiries.History(h, q.ID)
	if err != nil || len(hist) != 3 || hist[0].Kind != crm.InquiryCreated || hist[1].Kind != crm.InquiryChanged ||
		hist[2].Kind != crm.InquiryComment || hist[2].Comment != "Oferta wysłana mailem" || hist[2].Actor != crm.Staff(w.colleague) {
		t.Fatalf("history %+v, %v", hist, err)
	}
	if len(hist[1].Changes) != 2 || hist[1].Changes[0].Field != "status" && hist[1].Changes[1].Field != "status" {
		t.Fatalf("changes %+v", hist[1].Changes)
	}
	// Overdue once the planned day has passed, until the status is final.
	e.now = testNow.AddDate(0, 0, 5)
	got, _ = e.crm.Inquiries.Get(h, q.ID)
	if !got.Overdue {
		t.Fatal("not overdue after its planned day")
	}
	if n, _ := e.crm.Inquiries.Count(h, crm.InquiryFilter{Overdue: true}); n != 1 {
		t.Fatalf("overdue count %d", n)
	}
	due, _ = e.crm.Inquiries.Due(w.ctx[w.colleague])
	if len(due) != 1 || !due[0].Overdue {
		t.Fatalf("the new handler's reminders: %+v", due)
	}
	won := crm.InquiryWon
	got, err = e.crm.Inquiries.Update(h, q.ID, 2, crm.InquiryPatch{Status: &won})
	if err != nil || got.Overdue || got.ClosedAt == nil {
		t.Fatalf("won: %+v, %v", got, err)
	}
	if n, _ := e.crm.Inquiries.Count(h, crm.InquiryFilter{Overdue: true}); n != 0 {
		t.Fatalf("overdue count after won %d", n)
	}
	e.now = testNow

	// A new customer with an inquiry, in one call: both or neither.
	ci, err := e.crm.Inquiries.CreateWithCustomer(h, crm.NewCustomerInquiry{
		Customer: crm.CustomerFields{FirstName: "Jan", LastName: "Kowalski"}, Inquiry: crm.InquiryFields{Title: "Narty"}})
	if err != nil || ci.Inquiry.CustomerID != ci.Customer.ID {
		t.Fatalf("customer with inquiry %+v, %v", ci, err)
	}
	before := len(e.list(e.a, crm.CustomerFilter{}))
	_, err = e.crm.Inquiries.CreateWithCustomer(h, crm.NewCustomerInquiry{
		Customer: crm.CustomerFields{FirstName: "Ewa"}, Inquiry: crm.InquiryFields{Status: "maybe"}})
	wantInvalid(t, err, "inquiry.status", "oneof")
	if after := len(e.list(e.a, crm.CustomerFilter{})); after != before {
		t.Fatalf("a refused inquiry left its customer: %d customers, were %d", after, before)
	}
	_, err = e.crm.Inquiries.CreateWithCustomer(h, crm.NewCustomerInquiry{Customer: crm.CustomerFields{Email: "nope"}})
	wantInvalid(t, err, "customer.email", "")

	// Bad input names its field; B's customers and staff are unknown.
	for _, tc := range []struct {
		in    crm.InquiryFields
		field string
	}{
		{crm.InquiryFields{Visibility: "friends"}, "visibility"},
		{crm.InquiryFields{Visibility: crm.VisibleToPerson}, "visibleTo"},
		{crm.InquiryFields{Visibility: crm.VisibleToPerson, VisibleTo: "nobody"}, "visibleTo"},
		{crm.InquiryFields{Visibility: crm.VisibleToDepartment, VisibleTo: "nothing"}, "visibleTo"},
		{crm.InquiryFields{HandlerID: "nobody"}, "handlerId"},
		{crm.InquiryFields{Travellers: -1}, "travellers"},
		{crm.InquiryFields{Budget: &crm.Money{Amount: 5, Currency: "zł"}}, "budget.currency"},
		{crm.InquiryFields{Fields: map[string]string{"Bad Key": "x"}}, "fields.Bad Key"},
		{crm.InquiryFields{Title: "a\x00b"}, "title"},
		{crm.InquiryFields{Notes: string([]byte{0xff})}, "notes"},
	} {
		_, err := e.crm.Inquiries.Create(h, c.ID, tc.in)
		wantInvalid(t, err, tc.field, "")
	}
	other := e.create(e.b, crm.CustomerFields{LastName: "Fremd"})
	_, err = e.crm.Inquiries.Create(h, other.ID, crm.InquiryFields{})
	wantErr(t, err, crm.ErrNotFound)
	ghost := crm.WithActor(crm.WithOrg(context.Background(), orgA), crm.Staff("ghost")) // no staff user of A
	_, err = e.crm.Inquiries.Create(ghost, c.ID, crm.InquiryFields{})
	wantErr(t, err, crm.ErrForbidden)
	_, err = e.crm.Inquiries.List(ghost, crm.InquiryFilter{}, crm.PageRequest{})
	wantErr(t, err, crm.ErrForbidden)
}

// testInquiryVisibility is the probe: for every visibility, each staff
// user either sees an inquiry on every read path, or cannot learn that it
// exists on any: not by id, list, count, search, history, comment, change,
// the customer's export, a report or the reminders. Another organisation
// sees none of them.
func testInquiryVisibility(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	w := e.inquiryWorld(e.a)
	wb := e.inquiryWorld(e.b)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Zofia", LastName: "Nowak"})
	planned := crm.DateOf(testNow.AddDate(0, 0, 1))
	type inquiry struct {
		q   *crm.Inquiry
		who []string // who may see it
	}
	var made []inquiry
	creator := w.ctx[w.handler]
	for _, v := range []struct {
		vis crm.InquiryVisibility
		to  string
		who []string
	}{
		{crm.VisibleToMe, "", []string{w.handler}},
		{crm.VisibleToDepartment, w.sales, []string{w.handler, w.colleague}},
		{crm.VisibleToDepartment, w.office, []string{w.handler, w.outsider}},
		{crm.VisibleToPerson, w.person, []string{w.handler, w.person}},
		{crm.VisibleToCompany, "", []string{w.handler, w.colleague, w.person, w.outsider, w.a}},
	} {
		q, err := e.crm.Inquiries.Create(creator, c.ID, crm.InquiryFields{Title: "Sekret " + string(v.vis) + " " + v.to,
			Destination: "Madera", PlannedOn: &planned, Visibility: v.vis, VisibleTo: v.to})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.crm.Inquiries.Comment(creator, q.ID, "komentarz "+q.ID); err != nil {
			t.Fatal(err)
		}
		made = append(made, inquiry{q, v.who})
	}
	// An inquiry handled by the colleague but created by the handler: both see it.
	q, err := e.crm.Inquiries.Create(creator, c.ID, crm.InquiryFields{Title: "Sekret delegated", HandlerID: w.colleague,
		Visibility: crm.VisibleToMe, PlannedOn: &planned})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Inquiries.Comment(creator, q.ID, "komentarz "+q.ID); err != nil {
		t.Fatal(err)
	}
	made = append(made, inquiry{q, []string{w.handler, w.colleague}})
	// B's inquiries on B's customer, company-wide for B.
	bc := e.create(e.b, crm.CustomerFields{LastName: "Fremd"})
	bq, err := e.crm.Inquiries.Create(wb.ctx[wb.handler], bc.ID, crm.InquiryFields{Title: "Sekret B", Destination: "Madera"})
	if err != nil {
		t.Fatal(err)
	}

	viewers := []string{w.handler, w.colleague, w.person, w.outsider, w.a}
	for _, who := range viewers {
		ctx := w.ctx[who]
		var want []string
		for _, m := range made {
			if slices.Contains(m.who, who) {
				want = append(want, m.q.ID)
			}
		}
		slices.Sort(want)
		ids := func(items []crm.Inquiry) []string {
			var out []string
			for _, q := range items {
				out = append(out, q.ID)
			}
			slices.Sort(out)
			return out
		}
		for _, f := range []crm.InquiryFilter{{}, {CustomerID: c.ID}, {Search: "madera"}, {Search: "sekret"}, {Open: true},
			{Status: []crm.InquiryStatus{crm.InquiryNew}}, {PlannedFrom: &planned, PlannedTo: &planned}} {
			page, err := e.crm.Inquiries.List(ctx, f, crm.PageRequest{Limit: crm.MaxPageLimit})
			if err != nil {
				t.Fatal(err)
			}
			got := ids(page.Items)
			if f.Search == "madera" {
				got = slices.DeleteFunc(got, func(id string) bool { return id == made[len(made)-1].q.ID })
				want := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return id == made[len(made)-1].q.ID })
				if !slices.Equal(got, want) {
					t.Errorf("%s lists %v with %+v, may see %v", who, got, f, want)
				}
				continue
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s lists %v with %+v, may see %v", who, got, f, want)
			}
			n, err := e.crm.Inquiries.Count(ctx, f)
			if err != nil || n != int64(len(want)) {
				t.Errorf("%s counts %d with %+v, may see %d (%v)", who, n, f, len(want), err)
			}
		}
		// Paging shows the same set, one at a time.
		paged := allPages(t, 1, func(page crm.PageRequest) (crm.Page[crm.Inquiry], error) {
			return e.crm.Inquiries.List(ctx, crm.InquiryFilter{}, page)
		})
		if got := ids(paged); !slices.Equal(got, want) {
			t.Errorf("%s pages through %v, may see %v", who, got, want)
		}
		for _, m := range made {
			visible := slices.Contains(m.who, who)
			_, getErr := e.crm.Inquiries.Get(ctx, m.q.ID)
			_, histErr := e.crm.Inquiries.History(ctx, m.q.ID)
			for name, err := range map[string]error{"get": getErr, "history": histErr} {
				if visible && err != nil {
					t.Errorf("%s cannot %s %q: %v", who, name, m.q.Title, err)
				}
				if !visible && !errors.Is(err, crm.ErrNotFound) {
					t.Errorf("%s may not see %q but %s answers %v", who, m.q.Title, name, err)
				}
			}
			if !visible {
				_, err := e.crm.Inquiries.Comment(ctx, m.q.ID, "hello?")
				wantErr(t, err, crm.ErrNotFound)
				st := crm.InquiryLost
				_, err = e.crm.Inquiries.Update(ctx, m.q.ID, m.q.Version, crm.InquiryPatch{Status: &st})
				wantErr(t, err, crm.ErrNotFound)
			}
		}
		// The customer's export shows exactly what the reader may see.
		export, err := e.crm.Privacy.Export(ctx, c.ID, crm.ExportStaff)
		if err != nil {
			t.Fatal(err)
		}
		var exported []string
		for _, x := range export.Inquiries {
			exported = append(exported, x.ID)
		}
		slices.Sort(exported)
		if !slices.Equal(exported, want) {
			t.Errorf("%s's export of the customer holds %v, may see %v", who, exported, want)
		}
		b, _ := json.Marshal(export)
		for _, m := range made {
			if !slices.Contains(m.who, who) && (strings.Contains(string(b), m.q.ID) || strings.Contains(string(b), m.q.Title)) {
				t.Errorf("%s's export names %q", who, m.q.Title)
			}
		}
		// The customer's timeline shows the events of exactly the
		// inquiries the reader may see, and nothing of the others, on
		// every page.
		var timeline []crm.HistoryEvent
		tpage := crm.PageRequest{Limit: 3}
		for {
			p, err := e.crm.History.List(ctx, c.ID, tpage)
			if err != nil {
				t.Fatal(err)
			}
			timeline = append(timeline, p.Items...)
			if p.Next == "" {
				break
			}
			tpage.Cursor = p.Next
		}
		onTimeline := map[string]int{}
		for i, ev := range timeline {
			if i > 0 && (ev.At.After(timeline[i-1].At) || (ev.At.Equal(timeline[i-1].At) && ev.ID >= timeline[i-1].ID)) {
				t.Errorf("%s's timeline is out of order at %d", who, i)
			}
			switch ev.Kind {
			case crm.EventInquiryCreated, crm.EventInquiryCommented, crm.EventInquiryChanged:
				if len(ev.Changes) == 0 || ev.Changes[0].Field != "inquiry" {
					t.Fatalf("%s's timeline event %+v names no inquiry", who, ev)
				}
				onTimeline[ev.Changes[0].New.(string)]++
			}
		}
		var seen []string
		for id, n := range onTimeline {
			seen = append(seen, id)
			if n != 2 { // created and commented
				t.Errorf("%s's timeline has %d events of inquiry %s", who, n, id)
			}
		}
		slices.Sort(seen)
		if !slices.Equal(seen, want) {
			t.Errorf("%s's timeline shows inquiries %v, may see %v", who, seen, want)
		}
		tb, _ := json.Marshal(timeline)
		for _, m := range made {
			if !slices.Contains(m.who, who) && strings.Contains(string(tb), m.q.ID) {
				t.Errorf("%s's timeline names %q", who, m.q.Title)
			}
		}
		// The report counts what the reader may see.
		r, err := e.crm.Reports.Run(ctx, crm.ReportInquiries, crm.ReportParams{})
		if err != nil {
			t.Fatal(err)
		}
		var open int64
		for _, row := range r.Rows {
			open += row.Values[2]
		}
		if open != int64(len(want)) {
			t.Errorf("%s's inquiry report counts %d open, may see %d: %+v", who, open, len(want), r.Rows)
		}
		// The reminders: only what the reader handles.
		due, err := e.crm.Inquiries.Due(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range due {
			if q.HandlerID != who {
				t.Errorf("%s's reminders show %q handled by %s", who, q.Title, q.HandlerID)
			}
		}
		// B's inquiry is nowhere.
		_, err = e.crm.Inquiries.Get(ctx, bq.ID)
		wantErr(t, err, crm.ErrNotFound)
	}
	// And A's inquiries are nowhere for B, not even company-wide ones.
	for _, m := range made {
		_, err := e.crm.Inquiries.Get(wb.ctx[wb.handler], m.q.ID)
		wantErr(t, err, crm.ErrNotFound)
	}
	if n, _ := e.crm.Inquiries.Count(wb.ctx[wb.handler], crm.InquiryFilter{}); n != 1 {
		t.Fatalf("B counts %d inquiries, has 1", n)
	}
	_, err = e.crm.Inquiries.List(wb.ctx[wb.handler], crm.InquiryFilter{CustomerID: c.ID}, crm.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// The system (the command line, jobs) sees every inquiry of the organisation.
	sys := crm.WithActor(crm.WithOrg(context.Background(), orgA), crm.System())
	inquiryEvents := func(ctx context.Context) (n int, err error) {
		p, err := e.crm.History.List(ctx, c.ID, crm.PageRequest{Limit: crm.MaxPageLimit})
		for _, ev := range p.Items {
			if strings.HasPrefix(string(ev.Kind), "inquiry.") {
				n++
			}
		}
		return n, err
	}
	if n, err := inquiryEvents(sys); err != nil || n != 2*len(made) {
		t.Fatalf("the system's timeline shows %d inquiry events, %v", n, err)
	}
	// A read without an actor, by a customer, or by an actor that is no
	// staff user of the organisation shows none.
	if n, err := inquiryEvents(crm.WithOrg(context.Background(), orgA)); err != nil || n != 0 {
		t.Fatalf("a timeline read without an actor shows %d inquiry events, %v", n, err)
	}
	if n, err := inquiryEvents(crm.WithActor(e.a, crm.CustomerActor(c.ID))); err != nil || n != 0 {
		t.Fatalf("the customer's timeline read shows %d inquiry events, %v", n, err)
	}
	if n, err := inquiryEvents(crm.WithActor(e.a, crm.Staff(wb.handler))); err != nil || n != 0 {
		t.Fatalf("B's staff user reading A's timeline sees %d inquiry events, %v", n, err)
	}
	if n, err := e.crm.Inquiries.Count(sys, crm.InquiryFilter{}); err != nil || n != int64(len(made)) {
		t.Fatalf("the system counts %d, %v", n, err)
	}
}
