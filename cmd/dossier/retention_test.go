package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// retentionFixture is a database with organisation acme, whose policy
// anonymises customers inactive for a year unless they consented to the
// newsletter, and organisation beta without a policy.
type retentionFixture struct {
	dsn string
	c   *crm.CRM
	ctx context.Context // acme, as staff
	// inactive are acme's customers the policy selects; kept are those it does not.
	inactive, kept []*crm.Customer
	beta           *crm.Customer // inactive, but beta has no policy
}

func newRetentionFixture(t *testing.T, dsn string) *retentionFixture {
	t.Helper()
	for _, id := range []string{"acme", "beta"} {
		dossier(t, "org", "create", "--db", dsn, "--id", id, "--name", id).wantCode(t, 0)
	}
	f := &retentionFixture{dsn: dsn, c: openCRMForTest(t, dsn),
		ctx: crm.WithActor(crm.WithOrg(context.Background(), "acme"), crm.Staff(crm.AdministratorID))}
	// Customers made, and consents given, by a CRM whose clock is two years
	// back have had no activity since.
	past := openCRMWithConfig(t, dsn, crm.Config{Clock: func() time.Time { return time.Now().AddDate(-2, 0, 0) }})
	create := func(c *crm.CRM, ctx context.Context, first string) *crm.Customer {
		t.Helper()
		cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: first, LastName: "Tester", Email: strings.ToLower(first) + "@example.nl"})
		if err != nil {
			t.Fatal(err)
		}
		return cust
	}
	give := func(cust *crm.Customer, purpose string) {
		t.Helper()
		if _, err := past.Consents.Give(f.ctx, cust.ID, crm.ConsentInput{Purpose: purpose, Source: crm.SourceStaff}); err != nil {
			t.Fatal(err)
		}
	}
	anna, bert := create(past, f.ctx, "Anna"), create(past, f.ctx, "Bert")
	sms := create(past, f.ctx, "Sanne") // a consent for a purpose that is not excluded keeps nobody
	give(sms, crm.PurposeSMS)
	subscriber := create(past, f.ctx, "Carla")
	give(subscriber, crm.PurposeNewsletter)
	recent := create(f.c, f.ctx, "Rita")
	f.inactive = []*crm.Customer{anna, bert, sms}
	f.kept = []*crm.Customer{subscriber, recent}
	f.beta = create(past, crm.WithActor(crm.WithOrg(context.Background(), "beta"), crm.Staff(crm.AdministratorID)), "Bea")

	policy := crm.RetentionPolicy{Enabled: true, InactiveDays: 365, ExcludePurposes: []string{crm.PurposeNewsletter}}
	if _, err := f.c.Privacy.SetRetention(f.ctx, policy); err != nil {
		t.Fatal(err)
	}
	return f
}

// get reads a customer again, in its own organisation.
func (f *retentionFixture) get(t *testing.T, cust *crm.Customer) *crm.Customer {
	t.Helper()
	org := "acme"
	if cust.ID == f.beta.ID {
		org = "beta"
	}
	got, err := f.c.Customers.Get(crm.WithOrg(context.Background(), org), cust.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wantUntouched fails when a customer lost its data.
func (f *retentionFixture) wantUntouched(t *testing.T, custs ...*crm.Customer) {
	t.Helper()
	for _, cust := range custs {
		if got := f.get(t, cust); got.AnonymisedAt != nil || got.FirstName != cust.FirstName || got.Email != cust.Email {
			t.Errorf("customer %d (%s) was changed: %+v", cust.Number, cust.FirstName, got)
		}
	}
}

// wantAnonymised fails when a customer still holds its data.
func (f *retentionFixture) wantAnonymised(t *testing.T, custs ...*crm.Customer) {
	t.Helper()
	for _, cust := range custs {
		if got := f.get(t, cust); got.AnonymisedAt == nil || got.FirstName != "" || got.LastName != "" || got.Email != "" {
			t.Errorf("customer %d (%s) was not anonymised: %+v", cust.Number, cust.FirstName, got)
		}
	}
}

// customerRows returns the customers of the text output's tables as "number id".
func customerRows(out string) []string {
	var rows []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(\d+)\s+([0-9a-f-]{36})\s+\S+$`).FindAllStringSubmatch(out, -1) {
		rows = append(rows, m[1]+" "+m[2])
	}
	slices.Sort(rows)
	return rows
}

func rowsOf(custs []*crm.Customer) []string {
	var rows []string
	for _, c := range custs {
		rows = append(rows, fmt.Sprintf("%d %s", c.Number, c.ID))
	}
	slices.Sort(rows)
	return rows
}

// TestRetentionCommand checks that a dry run lists the inactive customers
// without changing them, that a real run anonymises exactly those, and
// that organisations without a policy are skipped.
func TestRetentionCommand(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		f := newRetentionFixture(t, dsn)
		db := []string{"--db", dsn}

		r := dossier(t, append([]string{"retention", "--dry-run"}, db...)...).wantCode(t, 0)
		for _, want := range []string{
			"Organisation acme (dry run): would anonymise 3 customers last active before ",
			"Organisation beta: no retention policy enabled; skipped.",
			"Total: would anonymise 3 customers in 2 organisations (1 with retention enabled).",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("dry run: output lacks %q:\n%s", want, r.stdout)
			}
		}
		if got, want := customerRows(r.stdout), rowsOf(f.inactive); !slices.Equal(got, want) {
			t.Errorf("dry run lists %q, want %q:\n%s", got, want, r.stdout)
		}
		f.wantUntouched(t, append(append(f.kept, f.inactive...), f.beta)...)

		r = dossier(t, append([]string{"retention", "--dry-run", "--json", "--org", "acme"}, db...)...).wantCode(t, 0)
		var reports []crm.RetentionReport
		if err := json.Unmarshal([]byte(r.stdout), &reports); err != nil {
			t.Fatalf("--json printed %q: %v", r.stdout, err)
		}
		if len(reports) != 1 || reports[0].Organisation != "acme" || !reports[0].DryRun || !reports[0].Enabled ||
			reports[0].Anonymised != 0 || len(reports[0].Customers) != len(f.inactive) {
			t.Errorf("--json --dry-run --org acme: %+v", reports)
		}

		r = dossier(t, append([]string{"retention"}, db...)...).wantCode(t, 0)
		for _, want := range []string{
			"Organisation acme: anonymised 3 customers last active before ",
			"Organisation beta: no retention policy enabled; skipped.",
			"Total: anonymised 3 customers in 2 organisations",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, r.stdout)
			}
		}
		if got, want := customerRows(r.stdout), rowsOf(f.inactive); !slices.Equal(got, want) {
			t.Errorf("anonymised %q, want %q:\n%s", got, want, r.stdout)
		}
		f.wantAnonymised(t, f.inactive...)
		f.wantUntouched(t, append(f.kept, f.beta)...)

		// Nothing is left to do; one organisation prints no total.
		r = dossier(t, append([]string{"retention", "--org", "acme"}, db...)...).wantCode(t, 0)
		if want := "Organisation acme: anonymised 0 customers"; !strings.HasPrefix(r.stdout, want) || strings.Contains(r.stdout, "Total") {
			t.Errorf("second run printed %q, want %q and no total", r.stdout, want)
		}

		r = dossier(t, append([]string{"retention", "--org", "nowhere"}, db...)...).wantCode(t, 1)
		if !strings.Contains(r.stderr, `there is no organisation "nowhere"`) {
			t.Errorf("--org nowhere: %q", r.stderr)
		}
	})
}

// TestServeRetention checks that serve applies the retention policies on
// its interval, and stops doing so when it shuts down.
func TestServeRetention(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		f := newRetentionFixture(t, dsn)
		srv := startServer(t, "--db", dsn, "--retention-every", "1s")
		// The first run anonymises; the next ones find nothing left to do.
		first := regexp.MustCompile(`msg="retention applied" org=acme anonymised=3 `)
		next := regexp.MustCompile(`msg="retention applied" org=acme anonymised=0 `)
		deadline := time.Now().Add(30 * time.Second)
		for !first.MatchString(srv.stderr.String()) || !next.MatchString(srv.stderr.String()) {
			if time.Now().After(deadline) {
				t.Fatalf("serve did not apply retention twice:\n%s", srv.stderr)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if code := srv.shutdown(t); code != 0 {
			t.Fatalf("serve exited with %d\nstderr:\n%s", code, srv.stderr)
		}
		logs := srv.stderr.String()
		if strings.Contains(logs, `msg="retention applied" org=beta`) || strings.Contains(logs, "retention failed") {
			t.Errorf("the log shows retention applied to beta, which has no policy, or a failure:\n%s", logs)
		}
		f.wantAnonymised(t, f.inactive...)
		f.wantUntouched(t, append(f.kept, f.beta)...)
		// The actor of a scheduled run is the system.
		history, err := f.c.History.List(f.ctx, f.inactive[0].ID, crm.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(history.Items) == 0 || history.Items[0].Kind != crm.EventCustomerAnonymised || history.Items[0].Actor != crm.System() {
			t.Errorf("latest event %+v, want customer.anonymised by the system", history.Items)
		}
	})
}
