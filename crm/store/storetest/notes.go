package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// testNoteTypes: every organisation has the built-in note types, named in
// several languages; an organisation adds, renames and archives its own,
// which no other organisation sees; an archived or foreign type is not
// offered for a new note; only administrators manage types.
func testNoteTypes(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	notes := e.crm.Notes
	types, err := notes.Types(e.a)
	if err != nil || len(types) != 6 {
		t.Fatalf("built-in types %+v, %v", types, err)
	}
	want := []string{crm.NotePhoneCall, crm.NoteEmail, crm.NoteVisit, crm.NoteComplaint, crm.NoteCatalogueSent, crm.NotePaymentReminder}
	for i, ty := range types {
		if ty.ID != want[i] || !ty.BuiltIn || ty.Name("en") == "" || ty.Name("pl") == ty.Name("en") && ty.ID != crm.NoteEmail {
			t.Fatalf("type %d: %+v", i, ty)
		}
	}
	if n := types[0].Name("nl-BE"); n != "Telefoongesprek" {
		t.Fatalf("nl-BE name %q", n)
	}
	own, err := notes.DefineType(e.a, crm.NewNoteType{Names: map[string]string{"pl": "Oferta wysłana", "en": " Offer sent "}})
	if err != nil || own.BuiltIn || own.Names["en"] != "Offer sent" || own.Position != 7 {
		t.Fatalf("own type %+v, %v", own, err)
	}
	_, err = notes.DefineType(e.a, crm.NewNoteType{Names: map[string]string{"xx-!!": "Bad"}})
	wantInvalid(t, err, "names.xx-!!", "language")
	_, err = notes.DefineType(e.a, crm.NewNoteType{})
	wantInvalid(t, err, "names", "required")
	if bTypes, _ := notes.Types(e.b); len(bTypes) != 6 {
		t.Fatalf("B sees %d types", len(bTypes))
	}
	_, err = notes.UpdateType(e.b, own.ID, crm.NoteTypePatch{Names: map[string]string{"en": "Stolen"}})
	wantErr(t, err, crm.ErrNotFound)

	clerk, err := e.crm.Staff.Create(e.a, crm.NewStaffUser{ID: "clerk", Name: "Clerk", Role: crm.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	asClerk, err := e.crm.Staff.Act(e.a, clerk.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = notes.DefineType(asClerk, crm.NewNoteType{Names: map[string]string{"en": "Mine"}})
	wantErr(t, err, crm.ErrForbidden)

	cust := e.create(e.a, crm.CustomerFields{LastName: "Nowak"})
	bCust := e.create(e.b, crm.CustomerFields{LastName: "Fremd"})
	n, err := notes.Add(asClerk, cust.ID, crm.NewNote{TypeID: own.ID, Text: "Sent the offer\nfor Crete"})
	if err != nil || n.AuthorID != "clerk" || n.TypeID != own.ID || !n.At.Equal(testNow.Truncate(time.Microsecond)) {
		t.Fatalf("note %+v, %v", n, err)
	}
	_, err = notes.Add(e.b, bCust.ID, crm.NewNote{TypeID: own.ID, Text: "A's type in B"})
	wantInvalid(t, err, "typeId", "unknown")
	archived := true
	if _, err := notes.UpdateType(e.a, own.ID, crm.NoteTypePatch{Archived: &archived}); err != nil {
		t.Fatal(err)
	}
	_, err = notes.Add(e.a, cust.ID, crm.NewNote{TypeID: own.ID, Text: "archived type"})
	wantInvalid(t, err, "typeId", "unknown")
	// The note keeps its archived type.
	if got, err := notes.Get(e.a, n.ID); err != nil || got.TypeID != own.ID {
		t.Fatalf("note after archiving %+v, %v", got, err)
	}
}

// testNotes: notes on a customer by their author, pinned first, the latest
// one readable, edits kept in the timeline, a staff actor that is not a
// staff user refused, and another organisation sees none of it.
func testNotes(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	notes := e.crm.Notes
	cust := e.create(e.a, crm.CustomerFields{LastName: "Kowalski"})
	_, err := notes.Latest(e.a, cust.ID)
	wantErr(t, err, crm.ErrNotFound)
	var made []*crm.Note
	for i, text := range []string{"first", "second", "third"} {
		at := testNow.Add(time.Duration(i) * time.Hour)
		n, err := notes.Add(e.a, cust.ID, crm.NewNote{TypeID: crm.NotePhoneCall, Text: text, At: &at, BookingID: "B-17"})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, n)
	}
	latest, err := notes.Latest(e.a, cust.ID)
	if err != nil || latest.ID != made[2].ID || latest.BookingID != "B-17" || latest.AuthorID != "staff-a" {
		t.Fatalf("latest %+v, %v", latest, err)
	}
	// The latest note shows on the customer; another organisation's
	// customer and lists do not carry it.
	if got, err := e.crm.Customers.Get(e.a, cust.ID); err != nil || got.LatestNote == nil || got.LatestNote.ID != made[2].ID ||
		got.LatestNote.Text != "third" {
		t.Fatalf("latest note on the customer %+v, %v", got, err)
	}
	if other := e.create(e.a, crm.CustomerFields{LastName: "Bez notatki"}); other.LatestNote != nil {
		t.Fatalf("a new customer shows a note %+v", other.LatestNote)
	} else if got, err := e.crm.Customers.Get(e.a, other.ID); err != nil || got.LatestNote != nil {
		t.Fatalf("a customer without notes shows %+v, %v", got, err)
	}
	pin := true
	pinned, err := notes.Update(e.a, made[0].ID, 1, crm.NotePatch{Pinned: &pin})
	if err != nil || !pinned.Pinned || pinned.Version != 2 {
		t.Fatalf("pin %+v, %v", pinned, err)
	}
	page, err := notes.List(e.a, cust.ID, false, crm.PageRequest{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != made[0].ID || page.Items[1].ID != made[2].ID || page.Next == "" {
		t.Fatalf("page 1 %+v, %v", page, err)
	}
	page, err = notes.List(e.a, cust.ID, false, crm.PageRequest{Limit: 2, Cursor: page.Next})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != made[1].ID || page.Next != "" {
		t.Fatalf("page 2 %+v, %v", page, err)
	}
	only, err := notes.List(e.a, cust.ID, true, crm.PageRequest{})
	if err != nil || len(only.Items) != 1 {
		t.Fatalf("pinned %+v, %v", only, err)
	}
	text := "second, corrected"
	edited, err := notes.Update(e.a, made[1].ID, 1, crm.NotePatch{Text: &text})
	if err != nil || edited.Text != text {
		t.Fatalf("edit %+v, %v", edited, err)
	}
	_, err = notes.Update(e.a, made[1].ID, 1, crm.NotePatch{Text: &text})
	wantErr(t, err, crm.ErrStaleVersion)
	empty := " "
	_, err = notes.Update(e.a, made[1].ID, 0, crm.NotePatch{Text: &empty})
	wantInvalid(t, err, "text", "required")
	// The timeline has every note and the earlier text.
	events, err := e.crm.History.List(e.a, cust.ID, crm.PageRequest{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var added, editedText int
	for _, ev := range events.Items {
		switch ev.Kind {
		case crm.EventNoteAdded:
			added++
		case crm.EventNoteEdited:
			for _, c := range ev.Changes {
				if c.Field == "text" && c.Old == "second" && c.New == text {
					editedText++
				}
			}
		}
	}
	if added != 3 || editedText != 1 {
		t.Fatalf("timeline %+v", events.Items)
	}
	// Isolation, and actors that are not staff users.
	_, err = notes.Get(e.b, made[0].ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = notes.List(e.b, cust.ID, false, crm.PageRequest{})
	wantErr(t, err, crm.ErrNotFound)
	_, err = notes.Latest(e.b, cust.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = notes.Update(e.b, made[0].ID, 0, crm.NotePatch{Text: &text})
	wantErr(t, err, crm.ErrNotFound)
	_, err = notes.Add(e.b, cust.ID, crm.NewNote{TypeID: crm.NotePhoneCall, Text: "x"})
	wantErr(t, err, crm.ErrNotFound)
	_, err = notes.Add(crm.WithActor(e.a, crm.System()), cust.ID, crm.NewNote{TypeID: crm.NotePhoneCall, Text: "x"})
	wantErr(t, err, crm.ErrForbidden)
	_, err = notes.Add(crm.WithActor(e.a, crm.Staff("ghost")), cust.ID, crm.NewNote{TypeID: crm.NotePhoneCall, Text: "x"})
	wantErr(t, err, crm.ErrForbidden)
	_, err = notes.Add(e.a, cust.ID, crm.NewNote{TypeID: crm.NotePhoneCall, Text: "bad\x00byte"})
	wantInvalid(t, err, "text", "control")
	// Deleting the customer deletes its notes.
	if err := e.crm.Customers.Delete(e.a, cust.ID); err != nil {
		t.Fatal(err)
	}
	_, err = notes.Get(e.a, made[0].ID)
	wantErr(t, err, crm.ErrNotFound)
}

// testTasks: tasks with owners, reassignment and completion on the
// customer's timeline, searchable by due date, owner, customer and
// status, isolated per organisation.
func testTasks(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	tasks := e.crm.Tasks
	clerk, err := e.crm.Staff.Create(e.a, crm.NewStaffUser{ID: "clerk", Name: "Clerk", Role: crm.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	cust := e.create(e.a, crm.CustomerFields{LastName: "Wiśniewska"})
	task, err := tasks.Create(e.a, crm.NewTask{Title: "Send the final documents", DueOn: crm.MustDate("2026-11-25"), DueTime: "14:30",
		OwnerID: clerk.ID, CustomerID: cust.ID, BookingID: "B-9"})
	if err != nil || task.OwnerID != "clerk" || task.CreatorID != "staff-a" || task.Status != crm.TaskOpen || task.DueTime != "14:30" {
		t.Fatalf("task %+v, %v", task, err)
	}
	internal, err := tasks.Create(e.a, crm.NewTask{Title: "Order brochures", DueOn: crm.MustDate("2026-11-20")})
	if err != nil || internal.OwnerID != "staff-a" || internal.CustomerID != "" {
		t.Fatalf("internal %+v, %v", internal, err)
	}
	for _, c := range []struct {
		in          crm.NewTask
		field, code string
	}{
		{crm.NewTask{Title: "x"}, "dueOn", "required"},
		{crm.NewTask{Title: "", DueOn: crm.MustDate("2026-01-01")}, "title", "required"},
		{crm.NewTask{Title: "x", DueOn: crm.MustDate("2026-01-01"), DueTime: "25:00"}, "dueTime", "invalid"},
		{crm.NewTask{Title: "x", DueOn: crm.MustDate("2026-01-01"), OwnerID: "ghost"}, "ownerId", "unknown"},
		{crm.NewTask{Title: "x", DueOn: crm.MustDate("2026-01-01"), CustomerID: "nope"}, "customerId", "unknown"},
		{crm.NewTask{Title: "x\x00", DueOn: crm.MustDate("2026-01-01")}, "title", "control"},
	} {
		_, err := tasks.Create(e.a, c.in)
		wantInvalid(t, err, c.field, c.code)
	}
	// B can neither link A's customer nor give A's staff its tasks.
	_, err = tasks.Create(e.b, crm.NewTask{Title: "x", DueOn: crm.MustDate("2026-01-01"), CustomerID: cust.ID})
	wantInvalid(t, err, "customerId", "unknown")
	_, err = tasks.Create(e.b, crm.NewTask{Title: "x", DueOn: crm.MustDate("2026-01-01"), OwnerID: "clerk"})
	wantInvalid(t, err, "ownerId", "unknown")
	_, err = tasks.Get(e.b, task.ID)
	wantErr(t, err, crm.ErrNotFound)
	owner := "staff-a"
	_, err = tasks.Update(e.b, task.ID, 0, crm.TaskPatch{OwnerID: &owner})
	wantErr(t, err, crm.ErrNotFound)

	// Reassign, then complete: both on the customer's timeline.
	task, err = tasks.Update(e.a, task.ID, 1, crm.TaskPatch{OwnerID: &owner})
	if err != nil || task.OwnerID != owner || task.Version != 2 {
		t.Fatalf("reassigned %+v, %v", task, err)
	}
	_, err = tasks.Update(e.a, task.ID, 1, crm.TaskPatch{OwnerID: &owner})
	wantErr(t, err, crm.ErrStaleVersion)
	done, err := tasks.Complete(e.a, task.ID)
	if err != nil || done.Status != crm.TaskDone || done.DoneAt == nil || done.DoneBy != "staff-a" {
		t.Fatalf("done %+v, %v", done, err)
	}
	events, err := e.crm.History.List(e.a, cust.ID, crm.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []crm.EventKind
	for _, ev := range events.Items {
		kinds = append(kinds, ev.Kind)
	}
	if !slices.Equal(kinds, []crm.EventKind{crm.EventTaskCompleted, crm.EventTaskReassigned, crm.EventTaskCreated, crm.EventCustomerCreated}) {
		t.Fatalf("timeline %v", kinds)
	}
	// Done tasks stay searchable.
	for _, c := range []struct {
		f    crm.TaskFilter
		want []string
	}{
		{crm.TaskFilter{Status: crm.TaskDone}, []string{task.ID}},
		{crm.TaskFilter{Status: crm.TaskOpen}, []string{internal.ID}},
		{crm.TaskFilter{CustomerID: cust.ID}, []string{task.ID}},
		{crm.TaskFilter{OwnerID: "staff-a"}, []string{internal.ID, task.ID}},
		{crm.TaskFilter{OwnerID: "clerk"}, nil},
		{crm.TaskFilter{DueFrom: ptr(crm.MustDate("2026-11-21"))}, []string{task.ID}},
		{crm.TaskFilter{DueTo: ptr(crm.MustDate("2026-11-21"))}, []string{internal.ID}},
	} {
		page, err := tasks.List(e.a, c.f, crm.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range page.Items {
			ids = append(ids, x.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("%+v: %v, want %v", c.f, ids, c.want)
		}
	}
	if page, err := tasks.List(e.b, crm.TaskFilter{}, crm.PageRequest{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("B lists %+v, %v", page, err)
	}
	page, err := tasks.List(e.a, crm.TaskFilter{}, crm.PageRequest{Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("page %+v, %v", page, err)
	}
	page, err = tasks.List(e.a, crm.TaskFilter{}, crm.PageRequest{Limit: 1, Cursor: page.Next})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != task.ID || page.Next != "" {
		t.Fatalf("page 2 %+v, %v", page, err)
	}
	_, err = tasks.List(e.a, crm.TaskFilter{Status: "later"}, crm.PageRequest{})
	wantInvalid(t, err, "status", "oneof")
	// A read-only user is refused.
	reader, err := e.crm.Staff.Create(e.a, crm.NewStaffUser{Name: "Reader", Role: crm.RoleReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	asReader, err := e.crm.Staff.Act(e.a, reader.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tasks.Create(asReader, crm.NewTask{Title: "x", DueOn: crm.MustDate("2026-01-01")})
	wantErr(t, err, crm.ErrForbidden)
}

// testReminders: a staff user's reminders are its open tasks overdue, due
// today, tomorrow and the day after, where "today" is the day in the
// user's time zone, else the organisation's; they move at midnight there.
func testReminders(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	st := e.crm.Staff
	warsaw := "Europe/Warsaw"
	if _, err := e.crm.Organisations.Update(e.a, orgA, crm.OrganisationPatch{TimeZone: &warsaw}); err != nil {
		t.Fatal(err)
	}
	// Three users: the organisation's zone (Warsaw, UTC+1 in November),
	// New York (UTC-5) and Tokyo (UTC+9).
	zones := map[string]string{"waw": "", "nyc": "America/New_York", "tyo": "Asia/Tokyo"}
	for id, tz := range zones {
		if _, err := st.Create(e.a, crm.NewStaffUser{ID: id, Name: id, Role: crm.RoleStaff, TimeZone: tz}); err != nil {
			t.Fatal(err)
		}
	}
	due := map[string]string{} // task id -> due date
	for _, owner := range []string{"waw", "nyc", "tyo"} {
		for day := 19; day <= 26; day++ {
			d := crm.MustDate("2026-11-" + itoa2(day))
			task, err := e.crm.Tasks.Create(e.a, crm.NewTask{Title: owner + " " + d.String(), DueOn: d, OwnerID: owner})
			if err != nil {
				t.Fatal(err)
			}
			due[task.ID] = d.String()
			if day == 19 { // a done task is no reminder
				if _, err := e.crm.Tasks.Complete(e.a, task.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Another user's and another organisation's tasks are not mine.
	if _, err := e.crm.Tasks.Create(e.b, crm.NewTask{Title: "B", DueOn: crm.MustDate("2026-11-22")}); err != nil {
		t.Fatal(err)
	}
	check := func(at time.Time, owner, today string, overdue int) {
		t.Helper()
		e.now = at
		ctx, err := st.Act(e.a, owner)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.crm.Tasks.Mine(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tz := zones[owner]
		if tz == "" {
			tz = warsaw
		}
		if r.Today.String() != today || r.TimeZone != tz || len(r.Overdue) != overdue || r.Truncated {
			t.Fatalf("%s at %v: today %v in %s, %d overdue, want %s and %d", owner, at, r.Today, r.TimeZone, len(r.Overdue), today, overdue)
		}
		day := crm.MustDate(today)
		for bucket, tasks := range map[int][]crm.Task{0: r.DueToday, 1: r.DueTomorrow, 2: r.DueDayAfter} {
			if len(tasks) != 1 || due[tasks[0].ID] != addDays(day, bucket) || tasks[0].OwnerID != owner {
				t.Fatalf("%s at %v: bucket +%d = %+v", owner, at, bucket, tasks)
			}
		}
		for _, task := range r.Overdue {
			if due[task.ID] >= today || task.Status != crm.TaskOpen || task.OwnerID != owner {
				t.Fatalf("%s at %v: overdue %+v", owner, at, task)
			}
		}
	}
	// 22:59:59 UTC on the 22nd: 23:59:59 in Warsaw, 17:59 in New York,
	// 07:59 on the 23rd in Tokyo. Overdue: due from the 20th (the 19th is done).
	before := time.Date(2026, 11, 22, 22, 59, 59, 0, time.UTC)
	check(before, "waw", "2026-11-22", 2)
	check(before, "nyc", "2026-11-22", 2)
	check(before, "tyo", "2026-11-23", 3)
	// One second later it is midnight in Warsaw: the buckets move there only.
	midnight := before.Add(time.Second)
	check(midnight, "waw", "2026-11-23", 3)
	check(midnight, "nyc", "2026-11-22", 2)
	check(midnight, "tyo", "2026-11-23", 3)
	// Midnight in New York (05:00 UTC on the 23rd).
	check(time.Date(2026, 11, 23, 4, 59, 59, 0, time.UTC), "nyc", "2026-11-22", 2)
	check(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC), "nyc", "2026-11-23", 3)
	// A user's own zone wins over the organisation's, and follows changes.
	utcZone := "UTC"
	if _, err := st.Update(e.a, "waw", 0, crm.StaffUserPatch{TimeZone: &utcZone}); err != nil {
		t.Fatal(err)
	}
	zones["waw"] = "UTC"
	check(midnight, "waw", "2026-11-22", 2)
	// Not a staff user: no reminders.
	_, err := e.crm.Tasks.Mine(crm.WithActor(e.a, crm.System()))
	wantErr(t, err, crm.ErrForbidden)
}

func itoa2(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }

func addDays(d crm.Date, n int) string { return crm.DateOf(d.Time().AddDate(0, 0, n)).String() }

// testCustomerGetLatest: CustomerGet with Latest reads the customer with
// the same latest review and note as ReviewGet and NoteLatest (of two
// notes at the same time, the greater id), by id and by number, none for a
// customer without them, and never another organisation's: B's customer
// with the very same id, a review and a note shows nothing of them in A.
func testCustomerGetLatest(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	st := e.store
	a := e.create(e.a, crm.CustomerFields{FirstName: "Jan", LastName: "Kowalski"})
	get := func(p crm.CustomerGetParams) *crm.Customer {
		t.Helper()
		p.Latest = true
		c, err := st.CustomerGet(e.a, p)
		if err != nil {
			t.Fatalf("CustomerGet %+v: %v", p, err)
		}
		return c
	}
	if c := get(crm.CustomerGetParams{OrgID: orgA, ID: a.ID}); c.LatestNote != nil || c.LatestReview != nil || c.LastName != "Kowalski" || c.Version != a.Version {
		t.Fatalf("without a review or note: %+v", c)
	}

	// B holds a customer with A's customer's id, with a review and a note.
	twin := *a
	twin.OrgID, twin.Number = orgB, 1
	if err := st.CustomerInsert(e.b, &twin); err != nil {
		t.Fatal(err)
	}
	at := testNow.Add(-time.Hour).Truncate(time.Microsecond)
	if err := st.ReviewSet(e.b, orgB, a.ID, crm.CustomerReview{Score: 1, Max: 5, Source: "google", At: at, InteractionID: "00000000-0000-4000-8000-0000000000b1"}); err != nil {
		t.Fatal(err)
	}
	note := func(org, author, id, text string, at time.Time) crm.Note {
		t.Helper()
		n := crm.Note{ID: id, CustomerID: a.ID, TypeID: crm.NotePhoneCall, Text: text, At: at, AuthorID: author, CreatedAt: at, UpdatedAt: at, Version: 1}
		if err := st.NoteInsert(e.a, org, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	note(orgB, "staff-b", "00000000-0000-4000-8000-0000000000b2", "B's note", at.Add(time.Hour))
	if c := get(crm.CustomerGetParams{OrgID: orgA, ID: a.ID}); c.LatestNote != nil || c.LatestReview != nil {
		t.Fatalf("A reads B's review or note: %+v, %+v", c.LatestReview, c.LatestNote)
	}

	note(orgA, "staff-a", "00000000-0000-4000-8000-0000000000a1", "older", at.Add(-time.Minute))
	note(orgA, "staff-a", "00000000-0000-4000-8000-0000000000a3", "latest, greater id", at)
	note(orgA, "staff-a", "00000000-0000-4000-8000-0000000000a2", "same time, smaller id", at)
	if err := st.ReviewSet(e.a, orgA, a.ID, crm.CustomerReview{Score: 4, Max: 5, Source: "tripadvisor", At: at, InteractionID: "00000000-0000-4000-8000-0000000000a4"}); err != nil {
		t.Fatal(err)
	}
	wantNote, err := st.NoteLatest(e.a, orgA, a.ID)
	if err != nil || wantNote.ID != "00000000-0000-4000-8000-0000000000a3" {
		t.Fatalf("NoteLatest %+v, %v", wantNote, err)
	}
	wantReview, err := st.ReviewGet(e.a, orgA, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []crm.CustomerGetParams{{OrgID: orgA, ID: a.ID}, {OrgID: orgA, Number: a.Number}} {
		c := get(p)
		if c.ID != a.ID || c.OrgID != orgA || c.LastName != "Kowalski" {
			t.Fatalf("%+v: customer %+v", p, c)
		}
		if c.LatestNote == nil || *c.LatestNote != *wantNote {
			t.Fatalf("%+v: latest note %+v, want %+v", p, c.LatestNote, wantNote)
		}
		if c.LatestReview == nil || *c.LatestReview != *wantReview {
			t.Fatalf("%+v: latest review %+v, want %+v", p, c.LatestReview, wantReview)
		}
	}
	// Without Latest, neither is read.
	if c, err := st.CustomerGet(e.a, crm.CustomerGetParams{OrgID: orgA, ID: a.ID}); err != nil || c.LatestNote != nil || c.LatestReview != nil {
		t.Fatalf("without Latest: %+v, %v", c, err)
	}
	_, err = st.CustomerGet(e.a, crm.CustomerGetParams{OrgID: orgA, ID: "00000000-0000-4000-8000-0000000000ff", Latest: true})
	wantErr(t, err, crm.ErrNotFound)
}
