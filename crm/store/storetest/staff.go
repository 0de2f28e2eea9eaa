package storetest

import (
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testStaff: staff users and departments per organisation; every new
// organisation has its administrator; ids and e-mail addresses are unique
// within an organisation only; departments are kept sorted and follow
// their deletion; updates are optimistic; the last administrator stays.
func testStaff(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	st := e.crm.Staff
	admin, err := st.Get(e.a, crm.AdministratorID)
	if err != nil || admin.Role != crm.RoleAdministrator || !admin.Active || admin.Language != "nl" {
		t.Fatalf("the organisation's administrator %+v, %v", admin, err)
	}
	sales, err := st.CreateDepartment(e.a, crm.NewDepartment{Name: "Sales"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := st.CreateDepartment(e.a, crm.NewDepartment{Name: "Back office"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.CreateDepartment(e.a, crm.NewDepartment{Name: " SALES "})
	wantErr(t, err, crm.ErrConflict)
	if _, err := st.CreateDepartment(e.b, crm.NewDepartment{Name: "Sales"}); err != nil {
		t.Fatalf("a name of A's is free in B: %v", err)
	}
	anna, err := st.Create(e.a, crm.NewStaffUser{Name: "Anna", Email: "Anna@Example.org", Role: crm.RoleStaff,
		Departments: []string{sales.ID, back.ID, sales.ID}, TimeZone: "Europe/Warsaw"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{sales.ID, back.ID}
	slices.Sort(want)
	got, err := st.Get(e.a, anna.ID)
	if err != nil || !slices.Equal(got.Departments, want) || got.Email != "Anna@Example.org" || got.TimeZone != "Europe/Warsaw" ||
		got.Version != 1 || !got.CreatedAt.Equal(testNow) || !reflect.DeepEqual(got, withDepartments(anna, got.Departments)) {
		t.Fatalf("got %+v, %v; made %+v", got, err, anna)
	}
	_, err = st.Create(e.a, crm.NewStaffUser{Name: "Other Anna", Email: "anna@example.ORG", Role: crm.RoleStaff})
	wantErr(t, err, crm.ErrConflict)
	_, err = st.Create(e.a, crm.NewStaffUser{ID: anna.ID, Name: "Same id", Role: crm.RoleStaff})
	wantErr(t, err, crm.ErrConflict)
	if _, err := st.Create(e.b, crm.NewStaffUser{ID: anna.ID, Name: "Anna in B", Email: "anna@example.org", Role: crm.RoleStaff}); err != nil {
		t.Fatalf("A's id and e-mail are free in B: %v", err)
	}
	_, err = st.Create(e.a, crm.NewStaffUser{Name: "X", Role: crm.RoleStaff, Departments: []string{"0193e3a0-0000-7000-8000-000000000000"}})
	wantInvalid(t, err, "departments[0]", "unknown")

	members, err := st.List(e.a, crm.StaffListParams{Department: sales.ID})
	if err != nil || len(members) != 1 || members[0].ID != anna.ID {
		t.Fatalf("sales %+v, %v", members, err)
	}
	if _, err := st.Get(e.b, admin.ID); err != nil {
		t.Fatalf("B has its own administrator: %v", err)
	}
	others, err := st.List(e.b, crm.StaffListParams{Department: sales.ID})
	if err != nil || len(others) != 0 {
		t.Fatalf("B lists A's department members %+v, %v", others, err)
	}

	// Optimistic updates.
	name := "Anna K."
	upd, err := st.Update(e.a, anna.ID, 1, crm.StaffUserPatch{Name: &name, Departments: &[]string{back.ID}})
	if err != nil || upd.Version != 2 || upd.Name != name || !slices.Equal(upd.Departments, []string{back.ID}) {
		t.Fatalf("update %+v, %v", upd, err)
	}
	_, err = st.Update(e.a, anna.ID, 1, crm.StaffUserPatch{Name: &name})
	wantErr(t, err, crm.ErrStaleVersion)
	_, err = st.Update(e.b, "nobody", 0, crm.StaffUserPatch{Name: &name})
	wantErr(t, err, crm.ErrNotFound)

	// Deleting a department leaves its members, without it.
	if err := st.DeleteDepartment(e.a, back.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, st.DeleteDepartment(e.a, back.ID), crm.ErrNotFound)
	if got, _ := st.Get(e.a, anna.ID); len(got.Departments) != 0 {
		t.Fatalf("departments after delete %+v", got.Departments)
	}
	renamed, err := st.RenameDepartment(e.a, sales.ID, crm.NewDepartment{Name: "Sales & support"})
	if err != nil || renamed.Name != "Sales & support" {
		t.Fatalf("rename %+v, %v", renamed, err)
	}
	_, err = st.RenameDepartment(e.b, sales.ID, crm.NewDepartment{Name: "Stolen"})
	wantErr(t, err, crm.ErrNotFound)

	// The last active administrator stays one. Each organisation of the
	// suite has two: "admin" and the suite's staff actor.
	off := false
	if _, err := st.Update(e.a, crm.AdministratorID, 0, crm.StaffUserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	role := crm.RoleStaff
	_, err = st.Update(e.a, "staff-a", 0, crm.StaffUserPatch{Role: &role})
	wantErr(t, err, crm.ErrConflict)
}

func withDepartments(u *crm.StaffUser, d []string) *crm.StaffUser {
	c := *u
	c.Departments = d
	return &c
}

// testPermissions: the organisation's permission switches, set by an
// administrator only, refuse staff exports and anonymisations and
// customers' own with ErrForbidden; the system actor is never refused;
// a read-only staff user changes nothing; a staff actor that is not a
// staff user of the organisation cannot manage anything.
func testPermissions(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	orgs := e.crm.Organisations
	p, err := orgs.Permissions(e.a)
	if err != nil || p != crm.DefaultPermissions() || !p.StaffMayExport || !p.StaffMayAnonymise || !p.CustomersMayExport || p.CustomersMayAnonymise {
		t.Fatalf("defaults %+v, %v", p, err)
	}
	clerk, err := e.crm.Staff.Create(e.a, crm.NewStaffUser{Name: "Clerk", Role: crm.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := e.crm.Staff.Create(e.a, crm.NewStaffUser{Name: "Reader", Role: crm.RoleReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	asClerk, err := e.crm.Staff.Act(e.a, clerk.ID)
	if err != nil {
		t.Fatal(err)
	}
	asReader, err := e.crm.Staff.Act(e.a, reader.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Staff.Act(e.a, "nobody")
	wantErr(t, err, crm.ErrForbidden)
	_, err = e.crm.Staff.Act(e.b, clerk.ID)
	wantErr(t, err, crm.ErrForbidden)

	// Only administrators (and the system) switch.
	no, yes := false, true
	_, err = orgs.SetPermissions(asClerk, crm.PermissionsPatch{StaffMayExport: &no})
	wantErr(t, err, crm.ErrForbidden)
	_, err = orgs.SetPermissions(crm.WithActor(e.a, crm.Staff("not-a-user")), crm.PermissionsPatch{StaffMayExport: &no})
	wantErr(t, err, crm.ErrForbidden)
	_, err = e.crm.Staff.Create(asClerk, crm.NewStaffUser{Name: "X", Role: crm.RoleAdministrator})
	wantErr(t, err, crm.ErrForbidden)

	cust := e.create(asClerk, crm.CustomerFields{LastName: "Klant"})
	other := e.create(e.a, crm.CustomerFields{LastName: "Ander"})
	// A read-only user reads and exports, and changes nothing.
	if _, err := e.crm.Customers.Get(asReader, cust.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Privacy.Export(asReader, cust.ID, crm.ExportStaff); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Customers.Create(asReader, crm.CustomerFields{LastName: "Nope"})
	wantErr(t, err, crm.ErrForbidden)
	_, err = e.crm.Privacy.Anonymise(asReader, cust.ID)
	wantErr(t, err, crm.ErrForbidden)

	got, err := orgs.SetPermissions(e.a, crm.PermissionsPatch{StaffMayExport: &no, StaffMayAnonymise: &no, CustomersMayAnonymise: &yes})
	if err != nil || got.StaffMayExport || got.StaffMayAnonymise || !got.CustomersMayExport || !got.CustomersMayAnonymise {
		t.Fatalf("switched %+v, %v", got, err)
	}
	if org, err := orgs.Get(e.a, orgB); err != nil || org.Permissions != crm.DefaultPermissions() {
		t.Fatalf("B's switches moved with A's: %+v, %v", org, err)
	}
	_, err = e.crm.Privacy.Export(asClerk, cust.ID, crm.ExportStaff)
	wantErr(t, err, crm.ErrForbidden)
	_, err = e.crm.Privacy.Export(crm.WithActor(e.a, crm.Integration("shop")), cust.ID, crm.ExportStaff)
	wantErr(t, err, crm.ErrForbidden)
	_, err = e.crm.Privacy.Anonymise(asClerk, cust.ID)
	wantErr(t, err, crm.ErrForbidden)
	wantErr(t, orgs.Allowed(asClerk, crm.ActionExport, cust.ID), crm.ErrForbidden)
	// A bulk export is exporting customer data too.
	_, err = e.crm.Exports.Export(asClerk, crm.ExportParams{}, io.Discard)
	wantErr(t, err, crm.ErrForbidden)

	// The customer itself, on itself only.
	self := crm.WithActor(e.a, crm.CustomerActor(cust.ID))
	if _, err := e.crm.Privacy.Export(self, cust.ID, crm.ExportCustomer); err != nil {
		t.Fatalf("the customer's own export: %v", err)
	}
	_, err = e.crm.Privacy.Export(self, other.ID, crm.ExportCustomer)
	wantErr(t, err, crm.ErrForbidden)
	_, err = e.crm.Exports.Export(self, crm.ExportParams{}, io.Discard)
	wantErr(t, err, crm.ErrForbidden)
	if err := orgs.Allowed(self, crm.ActionAnonymise, cust.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.SetPermissions(e.a, crm.PermissionsPatch{CustomersMayExport: &no, CustomersMayAnonymise: &no}); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Privacy.Export(self, cust.ID, crm.ExportCustomer)
	wantErr(t, err, crm.ErrForbidden)
	_, err = e.crm.Privacy.Anonymise(self, cust.ID)
	wantErr(t, err, crm.ErrForbidden)

	// The system (retention, jobs) is never refused.
	if _, err := e.crm.Privacy.Anonymise(crm.WithActor(e.a, crm.System()), cust.ID); err != nil {
		t.Fatal(err)
	}
	// The switches survive a reload, and an unknown time zone is refused.
	org, err := orgs.Get(e.a, orgA)
	if err != nil || org.Permissions.StaffMayExport || org.TimeZone != "UTC" {
		t.Fatalf("org %+v, %v", org, err)
	}
	bad := "Mars/Olympus"
	_, err = orgs.Update(e.a, orgA, crm.OrganisationPatch{TimeZone: &bad})
	wantInvalid(t, err, "timeZone", "timeZone")
}
