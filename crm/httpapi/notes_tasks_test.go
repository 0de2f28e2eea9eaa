package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestNotesAndTasks: a note written, pinned and edited over HTTP, with the
// earlier text in the timeline; a task made for another staff user, found
// in that user's reminders, reassigned and completed, each on the
// customer's timeline; bad input is 422 naming the field; read-only is 403.
func TestNotesAndTasks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		ts.do("POST", "/v1/staff", a, map[string]any{"id": "clerk", "name": "Clerk", "role": "staff"}).want(t, http.StatusCreated)
		_, clerkKey, err := ts.crm.APIKeys.Create(crm.WithActor(crm.WithOrg(t.Context(), "org-a"), crm.System()),
			crm.NewAPIKey{Name: "clerk", StaffUser: "clerk"})
		if err != nil {
			t.Fatal(err)
		}
		var cust crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Nowak"}).want(t, http.StatusCreated).json(t, &cust)
		notes := "/v1/customers/" + cust.ID + "/notes"

		var n crm.Note
		res := ts.do("POST", notes, clerkKey, map[string]any{"typeId": "complaint", "text": "Room was cold", "bookingId": "B-1"}).
			want(t, http.StatusCreated)
		res.json(t, &n)
		if n.AuthorID != "clerk" || res.header.Get("Location") != "/v1/notes/"+n.ID || res.header.Get("ETag") != `"1"` {
			t.Fatalf("note %+v, headers %v", n, res.header)
		}
		ts.do("PATCH", "/v1/notes/"+n.ID, a, map[string]any{"text": "Room was cold; heater fixed", "pinned": true}, "If-Match", `"1"`).
			want(t, http.StatusOK)
		ts.do("PATCH", "/v1/notes/"+n.ID, a, map[string]any{"text": "stale"}, "If-Match", `"1"`).wantProblem(t, http.StatusPreconditionFailed)
		var latest crm.Note
		ts.do("GET", notes+"/latest", a, nil).want(t, http.StatusOK).json(t, &latest)
		if latest.ID != n.ID || !latest.Pinned || latest.Text != "Room was cold; heater fixed" {
			t.Fatalf("latest %+v", latest)
		}
		var shown crm.Customer
		ts.do("GET", "/v1/customers/"+cust.ID, a, nil).want(t, http.StatusOK).json(t, &shown)
		if shown.LatestNote == nil || shown.LatestNote.ID != n.ID || shown.LatestNote.Text != latest.Text {
			t.Fatalf("the customer shows the latest note %+v", shown.LatestNote)
		}
		var page crm.Page[crm.Note]
		ts.do("GET", notes+"?pinned=true", a, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 1 {
			t.Fatalf("pinned %+v", page)
		}
		history := string(ts.do("GET", "/v1/customers/"+cust.ID+"/history", a, nil).want(t, http.StatusOK).body)
		if !strings.Contains(history, `"old":"Room was cold"`) || !strings.Contains(history, "note.added") {
			t.Fatalf("timeline without the earlier text: %s", history)
		}

		// A task for the clerk, due today (UTC, the organisation's zone).
		today := time.Now().UTC().Format(time.DateOnly)
		var task crm.Task
		ts.do("POST", "/v1/tasks", a, map[string]any{"title": "Call back", "dueOn": today, "dueTime": "09:30", "ownerId": "clerk",
			"customerId": cust.ID}).want(t, http.StatusCreated).json(t, &task)
		var mine crm.Reminders
		ts.do("GET", "/v1/tasks/reminders", clerkKey, nil).want(t, http.StatusOK).json(t, &mine)
		if len(mine.DueToday) != 1 || mine.DueToday[0].ID != task.ID || mine.TimeZone != "UTC" {
			t.Fatalf("clerk's reminders %+v", mine)
		}
		ts.do("PATCH", "/v1/tasks/"+task.ID, a, map[string]any{"ownerId": "staff-org-a"}, "If-Match", `"1"`).want(t, http.StatusOK)
		ts.do("PATCH", "/v1/tasks/"+task.ID, clerkKey, map[string]any{"status": "done"}, "If-Match", "*").want(t, http.StatusOK)
		ts.do("GET", "/v1/tasks/reminders", clerkKey, nil).want(t, http.StatusOK).json(t, &mine)
		if len(mine.DueToday) != 0 {
			t.Fatalf("reminders after reassigning %+v", mine)
		}
		var done crm.Page[crm.Task]
		ts.do("GET", "/v1/tasks?status=done&customerId="+cust.ID+"&dueFrom="+today+"&dueTo="+today, a, nil).want(t, http.StatusOK).json(t, &done)
		if len(done.Items) != 1 || done.Items[0].DoneBy != "clerk" {
			t.Fatalf("done tasks %+v", done)
		}
		history = string(ts.do("GET", "/v1/customers/"+cust.ID+"/history", a, nil).want(t, http.StatusOK).body)
		for _, kind := range []string{"task.created", "task.reassigned", "task.completed"} {
			if !strings.Contains(history, kind) {
				t.Fatalf("timeline without %s: %s", kind, history)
			}
		}

		// Bad input names the field.
		for _, c := range []struct {
			method, path string
			body         any
			field        string
		}{
			{"POST", notes, map[string]any{"typeId": "nope", "text": "x"}, "body.typeId"},
			{"POST", notes, map[string]any{"typeId": "visit", "text": ""}, "body.text"},
			{"POST", notes, map[string]any{"typeId": "visit", "text": "a\u0000b"}, "body.text"},
			{"POST", notes, map[string]any{"typeId": "visit", "text": "x", "at": "yesterday"}, "body.at"},
			{"POST", "/v1/note-types", map[string]any{"names": map[string]string{}}, "body.names"},
			{"POST", "/v1/note-types", map[string]any{"names": map[string]string{"en": "\u0007"}}, "body.names.en"},
			{"POST", "/v1/tasks", map[string]any{"title": "x"}, "body.dueOn"},
			{"POST", "/v1/tasks", map[string]any{"title": "x", "dueOn": "2026-02-30"}, "body.dueOn"},
			{"POST", "/v1/tasks", map[string]any{"title": "x", "dueOn": "2026-02-03", "dueTime": "9:30"}, "body.dueTime"},
			{"POST", "/v1/tasks", map[string]any{"title": "x", "dueOn": "2026-02-03", "ownerId": "ghost"}, "body.ownerId"},
			{"POST", "/v1/tasks", map[string]any{"title": "x", "dueOn": "2026-02-03", "customerId": "not-a-uuid"}, "body.customerId"},
			{"GET", "/v1/tasks?status=later", nil, "query.status"},
			{"GET", "/v1/tasks?dueFrom=tomorrow", nil, "query.dueFrom"},
			{"GET", "/v1/tasks?cursor=zzz", nil, "query.cursor"},
			{"GET", notes + "?cursor=zzz", nil, "query.cursor"},
			{"PATCH", "/v1/tasks/" + task.ID, map[string]any{"status": "later"}, "body.status"},
		} {
			var p problem
			if c.method == "PATCH" {
				p = ts.do(c.method, c.path, a, c.body, "If-Match", "*").wantProblem(t, http.StatusUnprocessableEntity)
			} else {
				p = ts.do(c.method, c.path, a, c.body).wantProblem(t, http.StatusUnprocessableEntity)
			}
			if !p.hasError(c.field, "") {
				t.Errorf("%s %s %v: %+v, want %s", c.method, c.path, c.body, p, c.field)
			}
		}
		ts.do("GET", "/v1/notes/not-a-uuid", a, nil).wantProblem(t, http.StatusNotFound)
		ts.do("GET", "/v1/tasks/not-a-uuid", a, nil).wantProblem(t, http.StatusNotFound)
		ts.do("POST", "/v1/customers/not-a-uuid/notes", a, map[string]any{"typeId": "visit", "text": "x"}).wantProblem(t, http.StatusNotFound)
		// Only administrators manage note types.
		ts.do("POST", "/v1/note-types", clerkKey, map[string]any{"names": map[string]string{"en": "Mine"}}).wantProblem(t, http.StatusForbidden)
	})
}
