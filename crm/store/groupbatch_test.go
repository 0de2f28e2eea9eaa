package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// batchCRM is a CRM on st acting as an administrator of org, with one
// customer made first whose login e-mail (taken@example.nl) a create of a
// batch can take again to roll back in its savepoint.
func batchCRM(t *testing.T, st *store.DB, org string) (*crm.CRM, context.Context, *crm.Customer) {
	t.Helper()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	octx := crm.WithStaffUser(crm.WithOrg(context.Background(), org),
		&crm.StaffUser{ID: "t", OrgID: org, Name: "t", Language: "en", Role: crm.RoleAdministrator, Active: true})
	taken, err := c.Customers.Create(octx, crm.CustomerFields{LastName: "Holder", LoginEmail: "taken@example.nl"})
	if err != nil {
		t.Fatal(err)
	}
	return c, octx, taken
}

// holdGroup runs a batch of group that waits until release is called, so
// that the calls queued meanwhile run as the next batch together; release
// fails the test if the holding batch failed.
func holdGroup(t *testing.T, st *store.DB, group string) (release func()) {
	t.Helper()
	hold, started := make(chan struct{}), make(chan struct{})
	leader := make(chan error, 1)
	go func() {
		leader <- st.InGroupTx(context.Background(), group, func(context.Context, crm.Store) error {
			close(started)
			<-hold
			return nil
		})
	}()
	<-started
	return func() {
		close(hold)
		if err := <-leader; err != nil {
			t.Error(err)
		}
	}
}

// TestGroupCommitDuplicateJob: the creates of one batch enqueue one
// duplicate check for all of them, in their transaction; a create of the
// batch that rolled back (a login e-mail already taken) is not in it, and
// numbers stay gapless. Running the job pairs every two customers of the
// batch that share an e-mail and a phone, and an id that no longer exists
// changes nothing.
func TestGroupCommitDuplicateJob(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		org := groupOrg(t, st)
		ctx := context.Background()
		c, octx, taken := batchCRM(t, st, org)
		before, err := st.JobArgsForTest(ctx, crm.JobCheckDuplicates)
		if err != nil {
			t.Fatal(err)
		}

		// A batch holds the group, so that the creates queue and run as the
		// next batch together.
		release := holdGroup(t, st, "customers/"+org)
		twin := func(i int) crm.CustomerFields {
			return crm.CustomerFields{FirstName: "Anna", LastName: "Jansen", Email: "anna@example.nl",
				Phones: []crm.Phone{{Number: "+31 20 555 0101"}}, LoginEmail: []string{"a1@example.nl", "", "taken@example.nl", "a3@example.nl"}[i]}
		}
		const n = 4
		made := make([]*crm.Customer, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { made[i], errs[i] = c.Customers.Create(octx, twin(i)) })
			waitQueued(t, st, "customers/"+org, i+1)
		}
		release()
		wg.Wait()
		var ids []string
		var numbers []int64
		for i := range n {
			if i == 2 {
				if errs[i] == nil {
					t.Fatalf("the create with a taken login returned %v", errs[i])
				}
				continue
			}
			if errs[i] != nil {
				t.Fatalf("create %d: %v", i, errs[i])
			}
			ids = append(ids, made[i].ID)
			numbers = append(numbers, made[i].Number)
		}
		slices.Sort(numbers)
		if !slices.Equal(numbers, []int64{taken.Number + 1, taken.Number + 2, taken.Number + 3}) {
			t.Fatalf("numbers %v after %d: a gap or a number taken twice", numbers, taken.Number)
		}

		args, err := st.JobArgsForTest(ctx, crm.JobCheckDuplicates)
		if err != nil {
			t.Fatal(err)
		}
		// On PostgreSQL the batch's job is a new one; on SQLite it joins the
		// waiting check of the first create (TestJoinWaitingJob).
		wantJobs, wantIDs := len(before)+1, slices.Clone(ids)
		if st.Dialect() == "sqlite" {
			wantJobs, wantIDs = len(before), append(wantIDs, taken.ID)
		}
		if len(args) != wantJobs {
			t.Fatalf("%d duplicate-check jobs after the batch, want %d", len(args), wantJobs)
		}
		var job crm.CheckDuplicates
		if err := json.Unmarshal([]byte(args[len(args)-1]), &job); err != nil {
			t.Fatal(err)
		}
		got := slices.Sorted(slices.Values(job.CustomerIDs))
		slices.Sort(wantIDs)
		if job.OrgID != org || !slices.Equal(got, wantIDs) {
			t.Fatalf("the batch's job checks %s %v, want %s %v (the committed creates, not the rolled-back one)", job.OrgID, got, org, wantIDs)
		}

		// The worker's part, with an id of a customer that does not exist.
		if err := c.Merges.CheckDuplicates(octx, append(job.CustomerIDs, uuid.NewString())...); err != nil {
			t.Fatal(err)
		}
		page, err := c.Merges.Candidates(octx, crm.PageRequest{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var pairs [][2]string
		for _, p := range page.Items {
			if !slices.Contains(ids, p.CustomerID) || !slices.Contains(ids, p.OtherCustomerID) {
				t.Errorf("pair %s %s outside the batch", p.CustomerID, p.OtherCustomerID)
			}
			if !slices.Contains(p.Reasons, crm.ReasonSameEmail) || !slices.Contains(p.Reasons, crm.ReasonSamePhone) {
				t.Errorf("pair %s %s has reasons %v", p.CustomerID, p.OtherCustomerID, p.Reasons)
			}
			pairs = append(pairs, [2]string{p.CustomerID, p.OtherCustomerID})
		}
		if len(pairs) != 3 {
			t.Fatalf("%d pairs among the batch's three twins, want 3: %v", len(pairs), pairs)
		}
	})
}

// TestJoinWaitingJob: on SQLite a create's duplicate check joins the
// organisation's check that is still waiting, so that creates one after
// the other make one job; a job a worker took already, another
// organisation's, or one whose arguments would grow too large is not
// joined. On PostgreSQL every create enqueues its own.
func TestJoinWaitingJob(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		ctx := context.Background()
		c, err := crm.New(st, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		staff := func(org string) context.Context {
			return crm.WithStaffUser(crm.WithOrg(ctx, org),
				&crm.StaffUser{ID: "t", OrgID: org, Name: "t", Language: "en", Role: crm.RoleAdministrator, Active: true})
		}
		orgA, orgB := groupOrg(t, st), "h"
		if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: orgB, Name: "H", DefaultLanguage: "nl"}); err != nil {
			t.Fatal(err)
		}
		create := func(org string) string {
			t.Helper()
			made, err := c.Customers.Create(staff(org), crm.CustomerFields{LastName: "Jansen"})
			if err != nil {
				t.Fatal(err)
			}
			return made.ID
		}
		jobs := func() []crm.CheckDuplicates {
			t.Helper()
			args, err := st.JobArgsForTest(ctx, crm.JobCheckDuplicates)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]crm.CheckDuplicates, len(args))
			for i, a := range args {
				if err := json.Unmarshal([]byte(a), &out[i]); err != nil {
					t.Fatal(err)
				}
			}
			return out
		}
		a1, a2, b1, a3 := create(orgA), create(orgA), create(orgB), create(orgA)
		want := []crm.CheckDuplicates{{OrgID: orgA, CustomerIDs: []string{a1, a2, a3}}, {OrgID: orgB, CustomerIDs: []string{b1}}}
		if st.Dialect() != "sqlite" {
			want = []crm.CheckDuplicates{{OrgID: orgA, CustomerIDs: []string{a1}}, {OrgID: orgA, CustomerIDs: []string{a2}},
				{OrgID: orgB, CustomerIDs: []string{b1}}, {OrgID: orgA, CustomerIDs: []string{a3}}}
		}
		if got := jobs(); !reflect.DeepEqual(got, want) {
			t.Fatalf("jobs %+v, want %+v", got, want)
		}
		if st.Dialect() != "sqlite" {
			return
		}
		// A worker took the waiting job: the next create enqueues a new one.
		if _, err := st.SQLDB().ExecContext(ctx, "UPDATE river_job SET state = 'running' WHERE kind = ?", crm.JobCheckDuplicates); err != nil {
			t.Fatal(err)
		}
		a4 := create(orgA)
		got := jobs()
		if len(got) != 3 || !reflect.DeepEqual(got[2], crm.CheckDuplicates{OrgID: orgA, CustomerIDs: []string{a4}}) {
			t.Fatalf("after the waiting job was taken: %+v", got)
		}
		// A waiting job grows to about fifty customers, then a new one starts.
		for range 60 {
			create(orgA)
		}
		got = jobs()
		if len(got) != 4 || len(got[2].CustomerIDs)+len(got[3].CustomerIDs) != 61 || len(got[2].CustomerIDs) < 40 {
			var sizes []int
			for _, j := range got {
				sizes = append(sizes, len(j.CustomerIDs))
			}
			t.Fatalf("61 creates made jobs of %v customers", sizes)
		}
	})
}

// TestGroupCommitSearchRows: the customers of one batch are found by a
// contains-search once it committed, a create of the batch that rolled
// back is not, and the search index stays whole when a customer of the
// batch is renamed afterwards. (On SQLite a batch inserts its search rows
// together after its savepoints, see groupBatch.)
func TestGroupCommitSearchRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		org := groupOrg(t, st)
		ctx := context.Background()
		c, octx, _ := batchCRM(t, st, org)
		release := holdGroup(t, st, "customers/"+org)
		const n = 4
		made := make([]*crm.Customer, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			f := crm.CustomerFields{LastName: []string{"Quokkaberg", "Quokkadal", "Quokkaveld", "Quokkameer"}[i]}
			if i == 2 {
				f.LoginEmail = "taken@example.nl" // rolls back in its savepoint
			}
			wg.Go(func() { made[i], errs[i] = c.Customers.Create(octx, f) })
			waitQueued(t, st, "customers/"+org, i+1)
		}
		release()
		wg.Wait()
		if errs[2] == nil {
			t.Fatal("the create with a taken login succeeded")
		}
		found := func(fragment string) []string {
			t.Helper()
			page, err := c.Customers.List(octx, crm.CustomerFilter{NameContains: fragment}, crm.PageRequest{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, cu := range page.Items {
				names = append(names, cu.LastName)
			}
			slices.Sort(names)
			return names
		}
		if got, want := found("okka"), []string{"Quokkaberg", "Quokkadal", "Quokkameer"}; !slices.Equal(got, want) {
			t.Fatalf("contains-search found %v, want %v", got, want)
		}
		renamed := "Wombatdal"
		if _, err := c.Customers.Update(octx, made[1].ID, made[1].Version, crm.CustomerPatch{LastName: &renamed}); err != nil {
			t.Fatal(err)
		}
		if got, want := found("okka"), []string{"Quokkaberg", "Quokkameer"}; !slices.Equal(got, want) {
			t.Fatalf("after the rename contains-search found %v, want %v", got, want)
		}
		if got, want := found("mbatd"), []string{"Wombatdal"}; !slices.Equal(got, want) {
			t.Fatalf("the new name: contains-search found %v, want %v", got, want)
		}
		if st.Dialect() == "sqlite" {
			if _, err := st.SQLDB().ExecContext(ctx, "INSERT INTO customer_search_fts (customer_search_fts) VALUES ('integrity-check')"); err != nil {
				t.Fatalf("the FTS5 index: %v", err)
			}
		}
	})
}
