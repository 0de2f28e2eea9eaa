package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// staffIsolationProbes gives organisation B a department, a staff user in
// it and changed permission switches, and returns TestIsolation's probes
// of the staff, department and permission routes with A's key. Each probe
// checks that B's staff, departments and permissions are as they were.
//
// It also gives B's customer bCustomer a note and a task of a staff user,
// a note type of B's own, and probes the note and task routes; aCustomer
// is A's own customer.
func staffIsolationProbes(t *testing.T, ts *testServer, bCustomer, aCustomer string) map[string]func(t *testing.T) {
	t.Helper()
	a, b := ts.keyA, ts.keyB
	var dep crm.Department
	ts.do("POST", "/v1/departments", b, map[string]any{"name": "Geheimabteilung"}).want(t, http.StatusCreated).json(t, &dep)
	var user crm.StaffUser
	ts.do("POST", "/v1/staff", b, map[string]any{"name": "Geheim Agent", "email": "agent@b.example", "role": "staff",
		"departments": []string{dep.ID}}).want(t, http.StatusCreated).json(t, &user)
	ts.do("PATCH", "/v1/organisation/permissions", b, map[string]any{"customersMayAnonymise": true, "customersMayExport": false}).
		want(t, http.StatusOK)
	var bType crm.NoteType
	ts.do("POST", "/v1/note-types", b, map[string]any{"names": map[string]string{"de": "Geheimtreffen"}}).want(t, http.StatusCreated).json(t, &bType)
	var bNote crm.Note
	ts.do("POST", "/v1/customers/"+bCustomer+"/notes", b, map[string]any{"typeId": bType.ID, "text": "Geheime Notiz", "pinned": true}).
		want(t, http.StatusCreated).json(t, &bNote)
	var bTask crm.Task
	ts.do("POST", "/v1/tasks", b, map[string]any{"title": "Geheime Aufgabe", "dueOn": "2026-01-01", "customerId": bCustomer}).
		want(t, http.StatusCreated).json(t, &bTask)
	state := func() string {
		var out []string
		for _, p := range []string{"/v1/staff", "/v1/staff/" + user.ID, "/v1/departments", "/v1/departments/" + dep.ID, "/v1/organisation/permissions",
			"/v1/note-types", "/v1/customers/" + bCustomer + "/notes", "/v1/notes/" + bNote.ID, "/v1/customers/" + bCustomer + "/notes/latest",
			"/v1/tasks", "/v1/tasks/" + bTask.ID, "/v1/tasks/reminders", "/v1/customers/" + bCustomer + "/history?limit=500"} {
			out = append(out, string(ts.do("GET", p, b, nil).want(t, http.StatusOK).body))
		}
		return strings.Join(out, "\n")
	}
	before := state()
	probe := func(fn func(t *testing.T)) func(t *testing.T) {
		return func(t *testing.T) {
			fn(t)
			if after := state(); after != before {
				t.Fatalf("B's staff changed:\n%s\nwas\n%s", after, before)
			}
		}
	}
	noneOfB := func(path string) func(t *testing.T) {
		return probe(func(t *testing.T) {
			body := string(ts.do("GET", path, a, nil).want(t, http.StatusOK).body)
			for _, s := range []string{user.ID, dep.ID, "Geheim", bType.ID, bNote.ID, bTask.ID, bCustomer} {
				if strings.Contains(body, s) {
					t.Fatalf("A's %s shows B's %s: %s", path, s, body)
				}
			}
		})
	}
	notFound := func(method, path string, body any, headers ...string) func(t *testing.T) {
		return probe(func(t *testing.T) { ts.do(method, path, a, body, headers...).wantProblem(t, http.StatusNotFound) })
	}
	return map[string]func(t *testing.T){
		"GET /v1/staff":    noneOfB("/v1/staff"),
		"GET /v1/staff/me": noneOfB("/v1/staff/me"),
		"GET /v1/staff/{id}": probe(func(t *testing.T) {
			ts.do("GET", "/v1/staff/"+user.ID, a, nil).wantProblem(t, http.StatusNotFound)
			ts.do("GET", "/v1/staff?department="+dep.ID, a, nil).want(t, http.StatusOK)
			noneOfB("/v1/staff?department=" + dep.ID)(t)
		}),
		"POST /v1/staff": probe(func(t *testing.T) {
			// B's department is unknown in A; B's staff e-mail is free in A.
			p := ts.do("POST", "/v1/staff", a, map[string]any{"name": "X", "role": "staff", "departments": []string{dep.ID}}).
				wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError("body.departments[0]", "unknown") {
				t.Fatalf("B's department in A: %+v", p)
			}
			ts.do("POST", "/v1/staff", a, map[string]any{"name": "A's agent", "email": "agent@b.example", "role": "read-only"}).
				want(t, http.StatusCreated)
		}),
		"PATCH /v1/staff/{id}": notFound("PATCH", "/v1/staff/"+user.ID, map[string]any{"name": "Stolen", "active": false}, "If-Match", `"1"`),
		"GET /v1/departments":  noneOfB("/v1/departments"),
		"POST /v1/departments": probe(func(t *testing.T) {
			ts.do("POST", "/v1/departments", a, map[string]any{"name": "Geheimabteilung A"}).want(t, http.StatusCreated)
		}),
		"GET /v1/departments/{id}":    notFound("GET", "/v1/departments/"+dep.ID, nil),
		"PATCH /v1/departments/{id}":  notFound("PATCH", "/v1/departments/"+dep.ID, map[string]any{"name": "Stolen"}),
		"DELETE /v1/departments/{id}": notFound("DELETE", "/v1/departments/"+dep.ID, nil),
		"GET /v1/organisation/permissions": probe(func(t *testing.T) {
			var p crm.Permissions
			ts.do("GET", "/v1/organisation/permissions", a, nil).want(t, http.StatusOK).json(t, &p)
			if p != crm.DefaultPermissions() {
				t.Fatalf("A's permissions %+v are B's", p)
			}
		}),
		"GET /v1/note-types":      noneOfB("/v1/note-types"),
		"GET /v1/note-types/{id}": notFound("GET", "/v1/note-types/"+bType.ID, nil),
		"POST /v1/note-types": probe(func(t *testing.T) {
			ts.do("POST", "/v1/note-types", a, map[string]any{"names": map[string]string{"de": "Geheimtreffen"}}).want(t, http.StatusCreated)
		}),
		"PATCH /v1/note-types/{id}": notFound("PATCH", "/v1/note-types/"+bType.ID, map[string]any{"archived": true}),
		"GET /v1/customers/{id}/notes": probe(func(t *testing.T) {
			ts.do("GET", "/v1/customers/"+bCustomer+"/notes", a, nil).wantProblem(t, http.StatusNotFound)
			noneOfB("/v1/customers/" + aCustomer + "/notes")(t)
		}),
		"GET /v1/customers/{id}/notes/latest": notFound("GET", "/v1/customers/"+bCustomer+"/notes/latest", nil),
		"POST /v1/customers/{id}/notes": probe(func(t *testing.T) {
			ts.do("POST", "/v1/customers/"+bCustomer+"/notes", a, map[string]any{"typeId": "visit", "text": "Stolen"}).wantProblem(t, http.StatusNotFound)
			p := ts.do("POST", "/v1/customers/"+aCustomer+"/notes", a, map[string]any{"typeId": bType.ID, "text": "B's type"}).
				wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError("body.typeId", "unknown") {
				t.Fatalf("B's note type in A: %+v", p)
			}
		}),
		"GET /v1/notes/{id}":   notFound("GET", "/v1/notes/"+bNote.ID, nil),
		"PATCH /v1/notes/{id}": notFound("PATCH", "/v1/notes/"+bNote.ID, map[string]any{"text": "Stolen"}, "If-Match", "*"),
		"GET /v1/tasks": probe(func(t *testing.T) {
			noneOfB("/v1/tasks")(t)
			noneOfB("/v1/tasks?ownerId=" + crm.AdministratorID)(t)
			ts.do("GET", "/v1/tasks?customerId="+bCustomer, a, nil).want(t, http.StatusOK)
			noneOfB("/v1/tasks?customerId=" + bCustomer)(t)
		}),
		"GET /v1/tasks/reminders": noneOfB("/v1/tasks/reminders"),
		"GET /v1/tasks/{id}":      notFound("GET", "/v1/tasks/"+bTask.ID, nil),
		"PATCH /v1/tasks/{id}":    notFound("PATCH", "/v1/tasks/"+bTask.ID, map[string]any{"status": "done"}, "If-Match", "*"),
		"POST /v1/tasks": probe(func(t *testing.T) {
			p := ts.do("POST", "/v1/tasks", a, map[string]any{"title": "X", "dueOn": "2026-01-01", "customerId": bCustomer}).
				wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError("body.customerId", "unknown") {
				t.Fatalf("B's customer on A's task: %+v", p)
			}
			p = ts.do("POST", "/v1/tasks", a, map[string]any{"title": "X", "dueOn": "2026-01-01", "ownerId": user.ID}).
				wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError("body.ownerId", "unknown") {
				t.Fatalf("B's staff user owns A's task: %+v", p)
			}
		}),
		"PATCH /v1/organisation/permissions": probe(func(t *testing.T) {
			ts.do("PATCH", "/v1/organisation/permissions", a, map[string]any{"staffMayAnonymise": true}).want(t, http.StatusOK)
		}),
	}
}

// TestStaffRoles: only administrators manage staff, departments and
// permissions; a read-only user reads but every change is 403; an
// inactive user's key stops working; the last administrator stays one;
// and the permission switches refuse exports and anonymisations with 403.
func TestStaffRoles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		admin := ts.keyA
		keyFor := func(id, role string) string {
			ts.do("POST", "/v1/staff", admin, map[string]any{"id": id, "name": id, "role": role}).want(t, http.StatusCreated)
			sys := crm.WithActor(crm.WithOrg(t.Context(), "org-a"), crm.System())
			_, secret, err := ts.crm.APIKeys.Create(sys, crm.NewAPIKey{Name: id, StaffUser: id})
			if err != nil {
				t.Fatal(err)
			}
			return secret
		}
		staff, reader := keyFor("clerk", "staff"), keyFor("reader", "read-only")

		var me crm.StaffUser
		ts.do("GET", "/v1/staff/me", reader, nil).want(t, http.StatusOK).json(t, &me)
		if me.ID != "reader" || me.Role != crm.RoleReadOnly || me.Language != "nl" {
			t.Fatalf("me %+v", me)
		}
		var cust crm.Customer
		ts.do("POST", "/v1/customers", staff, map[string]any{"lastName": "Klant"}).want(t, http.StatusCreated).json(t, &cust)
		var history struct{ Items []crm.HistoryEvent }
		ts.do("GET", "/v1/customers/"+cust.ID+"/history", reader, nil).want(t, http.StatusOK).json(t, &history)
		if len(history.Items) != 1 || history.Items[0].Actor != crm.Staff("clerk") {
			t.Fatalf("history %+v: the actor is the key's staff user", history.Items)
		}

		// A read-only user reads, and is refused every change.
		ts.do("GET", "/v1/customers/"+cust.ID, reader, nil).want(t, http.StatusOK)
		ts.do("POST", "/v1/customers", reader, map[string]any{"lastName": "Nope"}).wantProblem(t, http.StatusForbidden)
		ts.do("PATCH", "/v1/customers/"+cust.ID, reader, map[string]any{"lastName": "Nope"}, "If-Match", `"1"`).wantProblem(t, http.StatusForbidden)
		ts.do("POST", "/v1/tags", reader, map[string]any{"name": "Nope"}).wantProblem(t, http.StatusForbidden)

		// Only administrators manage staff, departments, permissions and the organisation.
		for _, key := range []string{staff, reader} {
			ts.do("POST", "/v1/staff", key, map[string]any{"name": "X", "role": "administrator"}).wantProblem(t, http.StatusForbidden)
			ts.do("PATCH", "/v1/staff/clerk", key, map[string]any{"role": "administrator"}, "If-Match", "*").wantProblem(t, http.StatusForbidden)
			ts.do("POST", "/v1/departments", key, map[string]any{"name": "X"}).wantProblem(t, http.StatusForbidden)
			ts.do("PATCH", "/v1/organisation/permissions", key, map[string]any{"staffMayExport": false}).wantProblem(t, http.StatusForbidden)
			ts.do("PATCH", "/v1/organisation", key, map[string]any{"name": "Mine"}).wantProblem(t, http.StatusForbidden)
			ts.do("GET", "/v1/staff", key, nil).want(t, http.StatusOK)
			ts.do("GET", "/v1/organisation/permissions", key, nil).want(t, http.StatusOK)
		}

		// The permission switches: staff exports and anonymisations.
		ts.do("GET", "/v1/customers/"+cust.ID+"/export", staff, nil).want(t, http.StatusOK)
		ts.do("GET", "/v1/customers/"+cust.ID+"/export", reader, nil).want(t, http.StatusOK)
		ts.do("PATCH", "/v1/organisation/permissions", admin, map[string]any{"staffMayExport": false, "staffMayAnonymise": false}).
			want(t, http.StatusOK)
		p := ts.do("GET", "/v1/customers/"+cust.ID+"/export", staff, nil).wantProblem(t, http.StatusForbidden)
		if !strings.Contains(p.Detail, "export") {
			t.Fatalf("refusal %+v does not say what", p)
		}
		ts.do("POST", "/v1/customers/"+cust.ID+"/anonymise", staff, nil).wantProblem(t, http.StatusForbidden)
		ts.do("PATCH", "/v1/organisation/permissions", admin, map[string]any{"staffMayAnonymise": true}).want(t, http.StatusOK)
		ts.do("POST", "/v1/customers/"+cust.ID+"/anonymise", reader, nil).wantProblem(t, http.StatusForbidden)
		ts.do("POST", "/v1/customers/"+cust.ID+"/anonymise", staff, nil).want(t, http.StatusOK)

		// Departments and the last administrator.
		var dep crm.Department
		ts.do("POST", "/v1/departments", admin, map[string]any{"name": "Sales"}).want(t, http.StatusCreated).json(t, &dep)
		ts.do("POST", "/v1/departments", admin, map[string]any{"name": "sales"}).wantProblem(t, http.StatusConflict)
		var clerk crm.StaffUser
		ts.do("PATCH", "/v1/staff/clerk", admin, map[string]any{"departments": []string{dep.ID}, "timeZone": "Europe/Warsaw"}, "If-Match", `"1"`).
			want(t, http.StatusOK).json(t, &clerk)
		if len(clerk.Departments) != 1 || clerk.Departments[0] != dep.ID || clerk.TimeZone != "Europe/Warsaw" || clerk.Version != 2 {
			t.Fatalf("clerk %+v", clerk)
		}
		ts.do("PATCH", "/v1/staff/clerk", admin, map[string]any{"name": "Stale"}, "If-Match", `"1"`).wantProblem(t, http.StatusPreconditionFailed)
		pz := ts.do("PATCH", "/v1/staff/clerk", admin, map[string]any{"timeZone": "Mars/Olympus"}, "If-Match", "*").wantProblem(t, http.StatusUnprocessableEntity)
		if !pz.hasError("body.timeZone", "timeZone") {
			t.Fatalf("bad time zone: %+v", pz)
		}
		var members struct{ Items []crm.StaffUser }
		ts.do("GET", "/v1/staff?department="+dep.ID, admin, nil).want(t, http.StatusOK).json(t, &members)
		if len(members.Items) != 1 || members.Items[0].ID != "clerk" {
			t.Fatalf("members %+v", members.Items)
		}
		ts.do("DELETE", "/v1/departments/"+dep.ID, admin, nil).want(t, http.StatusNoContent)
		ts.do("GET", "/v1/staff/clerk", admin, nil).want(t, http.StatusOK).json(t, &clerk)
		if len(clerk.Departments) != 0 {
			t.Fatalf("clerk keeps a deleted department: %+v", clerk)
		}
		// org-a's administrators: "admin" and the test key's "staff-org-a".
		ts.do("PATCH", "/v1/staff/admin", admin, map[string]any{"active": false}, "If-Match", "*").want(t, http.StatusOK)
		ts.do("PATCH", "/v1/staff/staff-org-a", admin, map[string]any{"role": "staff"}, "If-Match", "*").wantProblem(t, http.StatusConflict)

		// An inactive user's key stops working (once the key cache forgets it).
		ts.do("PATCH", "/v1/staff/reader", admin, map[string]any{"active": false}, "If-Match", "*").want(t, http.StatusOK)
		if _, err := ts.crm.APIKeys.Authenticate(t.Context(), reader); err == nil {
			t.Fatal("an inactive user's key authenticates")
		}
	})
}

// TestStaffBadInput: bad staff and department input is a 422 naming the field.
func TestStaffBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "X", "role": "boss"}, "body.role"},
			{map[string]any{"name": "", "role": "staff"}, "body.name"},
			{map[string]any{"name": "X\x00", "role": "staff"}, "body.name"},
			{map[string]any{"name": "X", "role": "staff", "email": "not-an-address"}, "body.email"},
			{map[string]any{"name": "X", "role": "staff", "language": "xx-!!"}, "body.language"},
			{map[string]any{"name": "X", "role": "staff", "timeZone": "Local"}, "body.timeZone"},
			{map[string]any{"name": "X", "role": "staff", "departments": []string{"nope"}}, "body.departments[0]"},
			{map[string]any{"id": "a\x01b", "name": "X", "role": "staff"}, "body.id"},
		} {
			p := ts.do("POST", "/v1/staff", a, c.body).wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError(c.field, "") {
				t.Errorf("%v: %+v, want %s", c.body, p, c.field)
			}
		}
		ts.do("POST", "/v1/staff", a, map[string]any{"id": "dup", "name": "X", "role": "staff", "email": "x@a.example"}).want(t, http.StatusCreated)
		if p := ts.do("POST", "/v1/staff", a, map[string]any{"id": "dup", "name": "Y", "role": "staff"}).wantProblem(t, http.StatusConflict); !p.hasError("body.id", "conflict") {
			t.Errorf("taken id: %+v", p)
		}
		if p := ts.do("POST", "/v1/staff", a, map[string]any{"name": "Y", "role": "staff", "email": "X@A.example"}).wantProblem(t, http.StatusConflict); !p.hasError("body.email", "conflict") {
			t.Errorf("taken e-mail: %+v", p)
		}
		ts.do("GET", "/v1/staff/"+strings.Repeat("x", 101), a, nil).wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("GET", "/v1/staff/nobody", a, nil).wantProblem(t, http.StatusNotFound)
		ts.do("POST", "/v1/departments", a, map[string]any{"name": "\x00"}).wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("PATCH", "/v1/departments/not-a-uuid", a, map[string]any{"name": "X"}).wantProblem(t, http.StatusNotFound)
		ts.do("PATCH", "/v1/organisation", a, map[string]any{"timeZone": "Nowhere/City"}).wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("PATCH", "/v1/organisation/permissions", a, map[string]any{"staffMayExport": "yes"}).wantProblem(t, http.StatusUnprocessableEntity)
	})
}
